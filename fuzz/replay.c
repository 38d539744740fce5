/*
 * Replays fuzzer inputs through fuzz_map.c's LLVMFuzzerTestOneInput without
 * libFuzzer, so that every corpus file (and every crash found and copied into
 * fuzz/corpus/) runs as a regression test in ctest with any compiler.
 *
 * Usage: fuzz_replay <file or directory>...
 * A directory is replayed file by file in name order. A failing input aborts
 * inside the target after its name has been printed. Exits non-zero when no
 * input was found, so that a missing corpus cannot pass unnoticed.
 */
#define _POSIX_C_SOURCE 200809L
/* 64-bit inode numbers and sizes on a 32-bit host too: without it, readdir and
 * stat fail with EOVERFLOW there on a file system with large inode numbers. */
#define _FILE_OFFSET_BITS 64

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Larger than any input the fuzzer writes (its -max_len is far below). */
#define MAX_INPUT ((size_t)1 << 20)

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    uint8_t *buf = malloc(MAX_INPUT);
    if (buf == NULL) {
        fclose(f);
        return -1;
    }
    size_t n = fread(buf, 1, MAX_INPUT, f);
    int bad = ferror(f) || !feof(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: unreadable or larger than %zu bytes\n", path, MAX_INPUT);
        free(buf);
        return -1;
    }
    fprintf(stderr, "replay %s (%zu bytes)\n", path, n);
    /* an exact-size copy, so that ASan sees a read past the input */
    uint8_t *data = malloc(n ? n : 1);
    if (data == NULL) {
        free(buf);
        return -1;
    }
    memcpy(data, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(data, n);
    free(data);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file of a directory; returns how many, or -1. */
static long replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        perror(dir);
        return -1;
    }
    size_t n = 0, cap = 0;
    char **names = NULL;
    long count = 0;
    for (;;) {
        errno = 0; /* readdir returns NULL both at the end and on an error */
        const struct dirent *e = readdir(d);
        if (e == NULL) {
            if (errno != 0) {
                perror(dir);
                count = -1;
            }
            break;
        }
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (grown == NULL) {
                count = -1;
                break;
            }
            names = grown;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (names[n] == NULL) {
            count = -1;
            break;
        }
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (count == 0 && n > 0)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (count >= 0 && stat(names[i], &st) != 0) {
            perror(names[i]);
            count = -1;
        } else if (count >= 0 && S_ISREG(st.st_mode)) {
            count = replay_file(names[i]) == 0 ? count + 1 : -1;
        }
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    long total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        long n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : (replay_file(argv[i]) == 0 ? 1 : -1);
        if (n < 0)
            return 1;
        total += n;
    }
    if (total == 0) {
        fprintf(stderr, "fuzz_replay: no input to replay\n");
        return 1;
    }
    printf("fuzz_replay: %ld inputs replayed, all checks held\n", total);
    return 0;
}
