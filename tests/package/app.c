/*
 * The program every consumer project of the package tests builds: a user of
 * libhashmap as it meets the library (installed, or as a subdirectory).
 *
 * It uses the map, checks that the header and the library it runs with
 * report the same version, and prints two lines for the test to check:
 *   version <hm_version_string()>
 *   loaded <path of the libhashmap.so the loader mapped>   (or: loaded none)
 * It exits non-zero when anything is wrong.
 */
#include <hashmap.h>
#include <stdio.h>
#include <string.h>

/* The shared object's path as the kernel reports it: symbolic links resolved,
 * so the test can tell which prefix it came from. */
static void print_loaded_library(void)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[4096];
    if (maps) {
        while (fgets(line, sizeof line, maps)) {
            const char *path = strchr(line, '/');
            if (path && strstr(path, "/libhashmap.so")) {
                printf("loaded %s", path); /* the line ends in '\n' */
                fclose(maps);
                return;
            }
        }
        fclose(maps);
    }
    printf("loaded none\n");
}

int main(void)
{
    hm_config config = {.key_size = sizeof(int), .value_size = sizeof(int)};
    hm_t *map = hm_new(&config);
    if (!map) {
        perror("hm_new");
        return 1;
    }
    for (int i = 0; i < 1000; i++) {
        int square = i * i;
        if (hm_insert(map, &i, &square) != HM_OK) {
            hm_free(map);
            return 1;
        }
    }
    int key = 31;
    const int *value = hm_get(map, &key);
    int ok = hm_len(map) == 1000 && value && *value == 961;
    hm_free(map);
    if (!ok) {
        fprintf(stderr, "the map does not work\n");
        return 1;
    }

    if (hm_version() != HM_VERSION_NUMBER || strcmp(hm_version_string(), HM_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s, library %s\n", HM_VERSION_STRING, hm_version_string());
        return 1;
    }
    printf("version %s\n", hm_version_string());
    print_loaded_library();
    return 0;
}
