/*
 * owned_strings: a map that owns heap strings, through drop callbacks.
 *
 *     example_owned_strings [N] [--malloc-tables]
 *
 * The seed experiment's workload in one process: N (default 100000) keys
 * "key_<i>" mapped to 100 'x's, each string a heap allocation held by a
 * 24-byte handle like Rust's String. The map stores the handles; key_drop and
 * value_drop free the strings when the map lets go of them (here, in
 * hm_free()). on_resize prints each growth of the table.
 *
 * The profiling guide (docs/profiling.md) runs heaptrack on this program: the
 * benchmark forks a child per run, and heaptrack does not follow a fork.
 * heaptrack sees malloc and its family only. With the default allocator,
 * libhashmap maps tables of 2 MiB or more itself (mmap, mremap), so heaptrack
 * does not see them; --malloc-tables gives the map an allocator that calls
 * malloc, realloc and free, which makes every table visible to it.
 */
#include <hashmap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct str {
    char *ptr;
    size_t len, cap;
};

static size_t drops;

static uint64_t str_hash(const void *key, const hm_t *map, void *udata)
{
    (void)udata;
    const struct str *s = key;
    return hm_hash_bytes(map, s->ptr, s->len);
}

static bool str_equal(const void *a, const void *b, void *udata)
{
    (void)udata;
    const struct str *x = a, *y = b;
    return x->len == y->len && memcmp(x->ptr, y->ptr, x->len) == 0;
}

static void str_drop(void *item, void *udata)
{
    (void)udata;
    free(((struct str *)item)->ptr);
    drops++;
}

static bool str_new(struct str *s, const char *bytes, size_t len)
{
    s->ptr = malloc(len ? len : 1);
    if (!s->ptr)
        return false;
    memcpy(s->ptr, bytes, len);
    s->len = s->cap = len;
    return true;
}

static void on_resize(const hm_resize_info *info, void *udata)
{
    (void)udata;
    printf("resize: %zu -> %zu buckets at %zu entries, %zu table bytes\n", info->old_buckets,
           info->new_buckets, info->len, info->new_bytes);
}

static void *std_alloc(size_t size, void *ctx)
{
    (void)ctx;
    return malloc(size);
}

static void *std_realloc(void *ptr, size_t old_size, size_t new_size, void *ctx)
{
    (void)old_size;
    (void)ctx;
    return realloc(ptr, new_size);
}

static void std_free(void *ptr, size_t size, void *ctx)
{
    (void)size;
    (void)ctx;
    free(ptr);
}

int main(int argc, char **argv)
{
    size_t n = 100000;
    bool malloc_tables = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--malloc-tables") == 0)
            malloc_tables = true;
        else
            n = strtoul(argv[i], NULL, 10);
    }

    static const hm_allocator with_malloc = {std_alloc, std_realloc, std_free, NULL};
    hm_config config = {
        .key_size = sizeof(struct str),
        .value_size = sizeof(struct str),
        .capacity = 14, /* 16 buckets at the default load of 7/8, as in the experiment */
        .hash = str_hash,
        .equal = str_equal,
        .key_drop = str_drop,
        .value_drop = str_drop,
        .on_resize = on_resize,
        .allocator = malloc_tables ? &with_malloc : NULL,
    };
    hm_t *map = hm_new(&config);
    if (!map) {
        perror("hm_new");
        return 1;
    }

    char x100[100], name[32];
    memset(x100, 'x', sizeof x100);
    for (size_t i = 0; i < n; i++) {
        struct str key, value;
        int len = snprintf(name, sizeof name, "key_%zu", i);
        if (!str_new(&key, name, (size_t)len)) {
            hm_free(map);
            return 1;
        }
        if (!str_new(&value, x100, sizeof x100)) {
            free(key.ptr);
            hm_free(map);
            return 1;
        }
        int rc = hm_insert(map, &key, &value);
        if (rc != HM_OK) { /* on failure the strings are still ours */
            fprintf(stderr, "hm_insert: %s\n", hm_strerror(rc));
            free(key.ptr);
            free(value.ptr);
            hm_free(map);
            return 1;
        }
    }

    struct str probe = {name, 0, 0};
    probe.len = (size_t)snprintf(name, sizeof name, "key_%zu", n / 2);
    const struct str *v = hm_get(map, &probe);
    printf("entries: %zu, %s -> %zu bytes\n", hm_len(map), name, v ? v->len : 0);

    hm_free(map);
    printf("strings freed by the drop callbacks: %zu\n", drops);
    return drops != 2 * n;
}
