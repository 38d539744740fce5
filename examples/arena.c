/*
 * arena: a map whose memory comes from a fixed buffer, through hm_allocator.
 *
 *     example_arena
 *
 * The arena hands out memory from the bottom of a 1 MiB buffer upwards. It
 * can take back only its topmost block, and it can grow the topmost block
 * where it is. Two things of the allocator interface make that enough:
 *  - free() receives the size that was asked for, so the arena knows where
 *    the block ends without a header of its own;
 *  - realloc() is required: the map grows its table by reallocating it and
 *    rehashing in place, and as the table is the topmost block, every growth
 *    extends it where it lies and copies nothing.
 *
 * The map fills the arena until an insert fails with HM_ENOMEM. A call that
 * fails leaves the map as it was: every key inserted before is still there.
 * Memory the allocator returns must be aligned to alignof(max_align_t).
 */
#include <hashmap.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ARENA_BYTES ((size_t)1 << 20)

struct arena {
    unsigned char *base;
    size_t size;
    size_t top;                 /* bytes in use, from base */
    size_t reallocs, in_place, refused; /* realloc calls; grown where they lay; NULL */
};

static size_t round_up(size_t n)
{
    size_t a = alignof(max_align_t);
    return (n + a - 1) & ~(a - 1);
}

static void *arena_alloc(size_t size, void *ctx)
{
    struct arena *a = ctx;
    size_t need = round_up(size);
    if (need < size || need > a->size - a->top)
        return NULL;
    void *p = a->base + a->top;
    a->top += need;
    return p;
}

static bool is_topmost(const struct arena *a, const void *p, size_t size)
{
    return (const unsigned char *)p + round_up(size) == a->base + a->top;
}

static void arena_free(void *ptr, size_t size, void *ctx)
{
    struct arena *a = ctx;
    if (ptr && is_topmost(a, ptr, size))
        a->top -= round_up(size);
    /* Any other block stays used until the arena is reset. */
}

static void *arena_realloc(void *ptr, size_t old_size, size_t new_size, void *ctx)
{
    struct arena *a = ctx;
    a->reallocs++;
    if (is_topmost(a, ptr, old_size)) {
        size_t start = (size_t)((unsigned char *)ptr - a->base), need = round_up(new_size);
        if (need < new_size || need > a->size - start) {
            a->refused++;
            return NULL; /* the block is left as it was */
        }
        a->top = start + need;
        a->in_place++;
        return ptr;
    }
    void *q = arena_alloc(new_size, ctx);
    if (q) {
        memcpy(q, ptr, old_size < new_size ? old_size : new_size);
        arena_free(ptr, old_size, ctx);
    } else {
        a->refused++;
    }
    return q;
}

int main(void)
{
    static alignas(max_align_t) unsigned char buffer[ARENA_BYTES];
    struct arena arena = {.base = buffer, .size = sizeof buffer};
    hm_allocator allocator = {arena_alloc, arena_realloc, arena_free, &arena};

    hm_config config = {
        .key_size = sizeof(uint64_t),
        .value_size = sizeof(uint64_t),
        .allocator = &allocator, /* copied by hm_new */
    };
    hm_t *squares = hm_new(&config);
    if (!squares) {
        perror("hm_new");
        return 1;
    }

    uint64_t n = 0;
    int rc;
    while ((rc = hm_insert(squares, &n, &(uint64_t){n * n})) == HM_OK)
        n++;
    printf("arena of %zu bytes\n", arena.size);
    printf("insert of key %llu: %s\n", (unsigned long long)n, hm_strerror(rc));
    printf("keys held: %zu, arena used: %zu bytes\n", hm_len(squares), arena.top);

    uint64_t wrong = 0;
    for (uint64_t k = 0; k < n; k++) {
        const uint64_t *v = hm_get(squares, &k);
        wrong += !v || *v != k * k;
    }
    printf("every key before it still there: %s\n", wrong == 0 && hm_len(squares) == n ? "yes" : "no");
    printf("reallocs: %zu, refused: %zu, the others grew the table in place: %s\n", arena.reallocs,
           arena.refused, arena.in_place + arena.refused == arena.reallocs ? "yes" : "no");

    hm_free(squares);
    printf("arena used after hm_free: %zu bytes\n", arena.top);
    return wrong != 0 || arena.top != 0;
}
