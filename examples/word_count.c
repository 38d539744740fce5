/*
 * word_count: the most frequent words of a text file.
 *
 *     example_word_count FILE [TOP]
 *
 * Keys are `const char *`: the map stores the pointer and hashes and compares
 * the string it points to (hm_hash_cstr, hm_equal_cstr). The strings are the
 * words cut out of one buffer that holds the whole file and outlives the map,
 * so the map owns nothing and needs no drop callback.
 *
 * hm_entry() does the counting in one hash and one probe per word: it returns
 * the count of a word seen before, or inserts the word with a zero count.
 */
#include <ctype.h>
#include <hashmap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct word_count {
    const char *word;
    long count;
};

/* The whole file, NUL-terminated; NULL on failure with a message printed. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return NULL;
    }
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - 1 - len, f);
        if (len < cap - 1)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger)
            free(buf);
        buf = bigger;
        cap *= 2;
    }
    if (!buf || ferror(f)) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(buf);
        buf = NULL;
    } else {
        buf[len] = '\0';
    }
    fclose(f);
    return buf;
}

/* Counts the words of text into counts, cutting text into NUL-terminated words
 * in place. Words are runs of ASCII letters, folded to lower case; every other
 * byte ends a word. Returns the number of words, or hm_entry's status (< 0). */
static long count_words(hm_t *counts, char *text)
{
    long total = 0;
    char *p = text;
    while (*p) {
        if (!isalpha((unsigned char)*p)) {
            p++;
            continue;
        }
        const char *word = p;
        for (; isalpha((unsigned char)*p); p++)
            *p = (char)tolower((unsigned char)*p);
        if (*p)
            *p++ = '\0';
        int status;
        long *n = hm_entry(counts, &word, &status); /* a new word starts at 0 */
        if (!n)
            return status;
        ++*n;
        total++;
    }
    return total;
}

/* Most frequent first; words of equal count in byte order, so that the
 * output does not depend on the table's (randomly seeded) order. */
static int by_count(const void *a, const void *b)
{
    const struct word_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->word, y->word);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s FILE [TOP]\n", argv[0]);
        return 2;
    }
    long top = argc == 3 ? strtol(argv[2], NULL, 10) : 10;
    char *text = read_file(argv[1]);
    if (!text)
        return 1;

    hm_config config = {
        .key_size = sizeof(const char *),
        .value_size = sizeof(long),
        .hash = hm_hash_cstr,
        .equal = hm_equal_cstr,
    };
    hm_t *counts = hm_new(&config);
    if (!counts) {
        perror("hm_new");
        free(text);
        return 1;
    }

    long total = count_words(counts, text);
    if (total < 0) {
        fprintf(stderr, "hm_entry: %s\n", hm_strerror((int)total));
        hm_free(counts);
        free(text);
        return 1;
    }

    /* Copy the entries out to sort them. */
    size_t distinct = hm_len(counts), i = 0;
    struct word_count *all = malloc((distinct ? distinct : 1) * sizeof *all);
    if (!all) {
        hm_free(counts);
        free(text);
        return 1;
    }
    size_t cursor = 0;
    const void *key;
    void *value;
    while (hm_iter_next(counts, &cursor, &key, &value)) {
        all[i].word = *(const char *const *)key;
        all[i].count = *(long *)value;
        i++;
    }
    qsort(all, distinct, sizeof *all, by_count);

    printf("words: %ld\n", total);
    printf("distinct: %zu\n", distinct);
    for (size_t k = 0; k < distinct && (long)k < top; k++)
        printf("%ld %s\n", all[k].count, all[k].word);

    free(all);
    hm_free(counts);
    free(text);
    return 0;
}
