/*
 * set: a map with value_size 0 is a set.
 *
 *     example_set
 *
 * The sequence x -> (x * x + 1) mod 1000003, started at 2, must come back to
 * a value it has had: there are only 1000003 of them. The set of values seen
 * finds the first repeat, since hm_insert() of a member returns HM_REPLACED.
 * Then hm_retain() keeps the even members, hm_remove() takes one out, and
 * hm_contains() asks about a few.
 *
 * For a set, hm_insert() takes NULL for the value, and hm_get() / hm_entry()
 * return a non-NULL pointer (to the stored key) when the key is present.
 */
#include <hashmap.h>
#include <stdint.h>
#include <stdio.h>

#define MODULUS 1000003u

static bool is_even(const void *key, void *value, void *udata)
{
    (void)value;
    (void)udata;
    return *(const uint64_t *)key % 2 == 0;
}

int main(void)
{
    hm_config config = {.key_size = sizeof(uint64_t)}; /* value_size 0: a set */
    hm_t *seen = hm_new(&config);
    if (!seen) {
        perror("hm_new");
        return 1;
    }

    uint64_t x = 2;
    size_t step = 0;
    for (;;) {
        int rc = hm_insert(seen, &x, NULL);
        if (rc < 0) {
            fprintf(stderr, "hm_insert: %s\n", hm_strerror(rc));
            hm_free(seen);
            return 1;
        }
        if (rc == HM_REPLACED)
            break;
        x = (x * x + 1) % MODULUS;
        step++;
    }
    printf("value %llu comes back at step %zu\n", (unsigned long long)x, step);
    printf("distinct values: %zu\n", hm_len(seen));

    /* The members are visited in table order, which differs from run to run:
     * add them up rather than print them. */
    uint64_t sum = 0;
    size_t cursor = 0;
    const void *key;
    while (hm_iter_next(seen, &cursor, &key, NULL))
        sum += *(const uint64_t *)key;
    printf("sum of the values: %llu\n", (unsigned long long)sum);

    hm_retain(seen, is_even, NULL);
    printf("even values: %zu\n", hm_len(seen));

    uint64_t two = 2, five = 5, twenty_six = 26;
    printf("removed 26: %d\n", hm_remove(seen, &twenty_six, NULL, NULL));
    printf("contains 2: %s, 5: %s, 26: %s\n", hm_contains(seen, &two) ? "yes" : "no",
           hm_contains(seen, &five) ? "yes" : "no", hm_contains(seen, &twenty_six) ? "yes" : "no");

    hm_free(seen);
    return 0;
}
