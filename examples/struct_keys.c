/*
 * struct_keys: a struct as the key, with a hash built on hm_hash_bytes().
 *
 *     example_struct_keys
 *
 * The default hash and equality read all key_size bytes of a key. A struct
 * with padding has bytes that belong to no member, and C leaves their value
 * unspecified: two keys with equal members may differ there. So this map
 * hashes and compares the members only. The hash feeds their bytes, in a fixed
 * order and width, to hm_hash_bytes(): the map's own seeded SipHash-1-3, so
 * the custom hash keeps the default's protection against chosen collisions.
 *
 * A map with a custom hash also keeps a tag byte of each key's hash in the
 * table, so that growing calls the hash function again for only about one
 * entry in nine.
 */
#include <hashmap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* On common ABIs: 1 byte of padding after `airline`, 2 after `number`. */
struct flight {
    char airline[3]; /* an ICAO code such as "DLH", not NUL-terminated */
    uint16_t number;
    uint32_t day;    /* days since 2026-01-01 */
};

static uint64_t flight_hash(const void *key, const hm_t *map, void *udata)
{
    (void)udata;
    const struct flight *f = key;
    unsigned char bytes[3 + 2 + 4];
    memcpy(bytes, f->airline, 3);
    /* Little-endian by hand: the same hash input on any host. */
    bytes[3] = (unsigned char)(f->number & 0xff);
    bytes[4] = (unsigned char)(f->number >> 8);
    for (int i = 0; i < 4; i++)
        bytes[5 + i] = (unsigned char)(f->day >> (8 * i));
    return hm_hash_bytes(map, bytes, sizeof bytes);
}

static bool flight_equal(const void *a, const void *b, void *udata)
{
    (void)udata;
    const struct flight *x = a, *y = b;
    return memcmp(x->airline, y->airline, 3) == 0 && x->number == y->number && x->day == y->day;
}

/* Builds a key whose padding holds `junk`, as a key in reused memory might. */
static struct flight make_flight(const char *airline, uint16_t number, uint32_t day,
                                 unsigned char junk)
{
    struct flight f;
    memset(&f, junk, sizeof f);
    memcpy(f.airline, airline, 3);
    f.number = number;
    f.day = day;
    return f;
}

int main(void)
{
    hm_config config = {
        .key_size = sizeof(struct flight),
        .value_size = sizeof(int), /* seats sold */
        .hash = flight_hash,
        .equal = flight_equal,
    };
    hm_t *sold = hm_new(&config);
    if (!sold) {
        perror("hm_new");
        return 1;
    }

    static const struct {
        const char *airline;
        uint16_t number;
        uint32_t day;
        int seats;
    } bookings[] = {
        {"DLH", 400, 31, 2}, {"AFR", 1234, 31, 1}, {"DLH", 400, 32, 3},
        {"DLH", 400, 31, 1}, {"KLM", 642, 40, 4},  {"AFR", 1234, 31, 2},
    };
    for (size_t i = 0; i < sizeof bookings / sizeof bookings[0]; i++) {
        struct flight key = make_flight(bookings[i].airline, bookings[i].number,
                                        bookings[i].day, (unsigned char)(0x11 * (i + 1)));
        int status;
        int *seats = hm_entry(sold, &key, &status);
        if (!seats) {
            fprintf(stderr, "hm_entry: %s\n", hm_strerror(status));
            hm_free(sold);
            return 1;
        }
        *seats += bookings[i].seats;
    }
    printf("flights: %zu\n", hm_len(sold));

    /* Look up with keys whose padding differs from every stored one. */
    static const struct {
        const char *airline;
        uint16_t number;
        uint32_t day;
    } queries[] = {
        {"DLH", 400, 31}, {"AFR", 1234, 31}, {"DLH", 400, 32}, {"KLM", 642, 40}, {"KLM", 642, 41},
    };
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        struct flight key = make_flight(queries[i].airline, queries[i].number, queries[i].day, 0xee);
        const int *seats = hm_get(sold, &key);
        if (seats)
            printf("%.3s %u day %u: %d seats\n", key.airline, (unsigned)key.number,
                   (unsigned)key.day, *seats);
        else
            printf("%.3s %u day %u: no bookings\n", key.airline, (unsigned)key.number,
                   (unsigned)key.day);
    }

    hm_free(sold);
    return 0;
}
