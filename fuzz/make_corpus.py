#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_map.c into fuzz/corpus/ (or the directory given),
and its inputs with tables of 2^20 buckets into fuzz/corpus-large/ (or that
directory's name with -large).

Each file is one map configuration followed by operations in fuzz_map.c's
encoding: a fill phase, a phase of mixed operations (allocation failures,
reserve, resize up and down, iteration with removal, retain, clear, bad
arguments), then a drain. The output is deterministic: rerunning the script
rewrites the same files.
"""
import os
import random
import struct
import sys

# Opcodes: fuzz_map.c takes the opcode modulo 20; the high bits select a
# variant (remove's out-parameters, clear versus retain, recreate versus hash,
# insert versus insert_many, get_many versus remove_many, get versus an insert
# given pointers from the map).
INSERT, ENTRY, REMOVE, GET, CONTAINS, RESERVE, RESIZE, RETAIN = 0, 4, 6, 9, 10, 11, 12, 13
ITERATE, GET_MANY, ARM, BAD_ARGS, HASH, FIT = 14, 15, 16, 17, 18, 19
CLEAR = 13 + 20 * 7       # 153: bit 7 set
RECREATE = 18 + 20 * 6    # 138: bit 7 set
INSERT_MANY = 3 + 20 * 7  # 143: bit 7 set
REMOVE_MANY = 15 + 20 * 7  # 155: bit 7 set
INSERT_FROM_MAP = 9 + 20 * 7  # 149: bit 7 set
REMOVE_MODE = [6, 66, 146, 206]  # code >> 6 = 0..3: neither, key_out, value_out, both

KEY_SIZES = [1, 2, 3, 4, 8, 12, 16, 24]
VALUE_SIZES = [0, 1, 4, 5, 8, 16, 24, 32]


class Writer:
    def __init__(self, ks_i, vs_i, hash_mode, load_i, univ_i, drops, equal, cap_byte, seed):
        self.vs = VALUE_SIZES[vs_i]
        universe = 4 << univ_i
        if KEY_SIZES[ks_i] == 1:
            universe = min(universe, 256)
        if hash_mode == 2:
            universe = min(universe, 128)
        self.n = universe
        self.out = bytearray([ks_i | vs_i << 3 | hash_mode << 6,
                              load_i | univ_i << 3 | drops << 6 | equal << 7,
                              cap_byte, seed])

    def op(self, code, key_id=0, args=b""):
        self.out += bytes([code]) + struct.pack("<H", key_id) + args

    def insert(self, rng, key_id):
        self.op(INSERT, key_id, bytes(rng.randrange(256) for _ in range(self.vs)))


def amount(kind, value):
    """fuzz_map.c's amount(): the top two bits of a 16-bit word pick the range."""
    return struct.pack("<H", kind << 14 | (value & 0x3FFF))


def insert_many(w, rng):
    n = rng.randrange(41)
    args = bytes([n])
    for _ in range(n):
        args += struct.pack("<H", rng.randrange(w.n))
        args += bytes(rng.randrange(256) for _ in range(w.vs))
    w.op(INSERT_MANY, 0, args)


def remove_many(w, rng):
    n = rng.randrange(41)
    w.op(REMOVE_MANY, 0, bytes([n]) + b"".join(
        struct.pack("<H", rng.randrange(w.n)) for _ in range(n)))


def mixed_op(w, rng, many=False, removals=False):
    k = rng.randrange(w.n)
    r = rng.randrange(100)
    if removals and r < 10:
        remove_many(w, rng)
    elif many and r < 20:
        insert_many(w, rng)
    elif r < 25:
        w.insert(rng, k)
    elif r < 35:
        w.op(ENTRY, k, bytes([rng.randrange(256)]))
    elif r < 55:
        w.op(REMOVE_MODE[rng.randrange(4)], k)
    elif r < 60:
        w.op(CONTAINS, k)
    elif r < 64:
        w.op(ARM, 0, bytes([rng.randrange(256)]))
    elif r < 68:
        w.op(RESERVE, 0, amount(rng.randrange(4), rng.randrange(1 << 14)))
    elif r < 72:
        w.op(RESIZE, 0, amount(rng.randrange(4), rng.randrange(1 << 14)))
    elif r < 76:
        w.op(ITERATE, 0, bytes([rng.randrange(256), rng.randrange(256)]))
    elif r < 79:
        w.op(RETAIN, 0, bytes([rng.randrange(256)]))
    elif r < 83:
        n = 1 + rng.randrange(40)
        w.op(GET_MANY, 0, bytes([n - 1]) + b"".join(
            struct.pack("<H", rng.randrange(w.n)) for _ in range(n)))
    elif r < 86:
        w.op(BAD_ARGS, k)
    elif r < 88:
        w.op(HASH, k)
    elif r < 90:
        w.op(FIT)
    elif r < 91:
        w.op(CLEAR)
    elif r < 92:
        w.op(RECREATE)
    else:
        w.op(GET)


def insert_from_map(w, rng, key_id, from_id):
    """key_id given from_id's value as hm_get returns it; `how` picks the stored
    key (bit 0) and hm_insert_many, which refuses them (bit 1)."""
    w.op(INSERT_FROM_MAP, key_id, struct.pack("<H", from_id) + bytes([rng.randrange(4)]))


def build(rng, many=False, removals=False, from_map=False):
    hash_mode = rng.randrange(4)
    w = Writer(ks_i=rng.randrange(8), vs_i=rng.randrange(8), hash_mode=hash_mode,
               load_i=rng.randrange(8), univ_i=rng.randrange(1, 7 if hash_mode != 2 else 6),
               drops=rng.randrange(2), equal=rng.randrange(2),
               cap_byte=rng.choice([0, 0, 129, 140, 200]), seed=rng.randrange(256))
    fill = rng.randrange(w.n // 2, w.n + 1)
    filled = []
    for k in rng.sample(range(w.n), fill):
        if rng.randrange(16) == 0:
            w.op(ARM, 0, bytes([rng.randrange(12)]))
        if from_map and filled and rng.randrange(4) == 0:
            insert_from_map(w, rng, k, rng.choice(filled))
        else:
            w.insert(rng, k)
        filled.append(k)
    for _ in range(rng.randrange(40, 160)):
        if from_map and rng.randrange(8) == 0:
            insert_from_map(w, rng, rng.randrange(w.n), rng.randrange(w.n))
        else:
            mixed_op(w, rng, many, removals)
    for k in rng.sample(range(w.n), w.n // 2):
        w.op(REMOVE_MODE[rng.randrange(4)], k)
    w.op(ITERATE, 0, bytes([rng.randrange(256), rng.randrange(256)]))
    return bytes(w.out)


def build_big(rng, ks_i):
    """A table of 2^20 buckets (capacity byte 255) with SipHash and a key of 4, 8 or
    16 bytes, where hm_get counts the thread's misses in a row: lookups in runs
    of absent keys between present ones, with inserts and removals among them."""
    w = Writer(ks_i=ks_i, vs_i=rng.randrange(8), hash_mode=0, load_i=rng.randrange(8),
               univ_i=6, drops=rng.randrange(2), equal=0, cap_byte=255, seed=rng.randrange(256))
    present = set(rng.sample(range(w.n), w.n // 2))
    for k in present:
        w.insert(rng, k)
    absent = [k for k in range(w.n) if k not in present]
    for _ in range(12):
        for _ in range(rng.randrange(1, 24)):
            w.op(rng.choice([GET, CONTAINS]), rng.choice(absent))
        w.op(GET, rng.choice(sorted(present)))
        if rng.randrange(4) == 0:
            w.op(REMOVE_MODE[rng.randrange(4)], rng.randrange(w.n))
            w.insert(rng, rng.randrange(w.n))
    return bytes(w.out)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(0x5EED)
    for i in range(40):
        with open(os.path.join(out_dir, "seed-%02d" % i), "wb") as f:
            f.write(build(rng))
    # hm_insert_many among the mixed operations, from a second generator so
    # that the files above stay as they were
    rng = random.Random(0x5EED + 1)
    for i in range(40, 48):
        with open(os.path.join(out_dir, "seed-%02d" % i), "wb") as f:
            f.write(build(rng, many=True))
    # hm_remove_many and hm_insert_many among them, from a third
    rng = random.Random(0x5EED + 3)
    for i in range(48, 56):
        with open(os.path.join(out_dir, "seed-%02d" % i), "wb") as f:
            f.write(build(rng, many=True, removals=True))
    # keys and values the map handed out, passed back in while it grows, from a
    # fourth
    rng = random.Random(0x5EED + 4)
    for i in range(56, 64):
        with open(os.path.join(out_dir, "seed-%02d" % i), "wb") as f:
            f.write(build(rng, many=True, removals=True, from_map=True))
    # the degenerate inputs: nothing at all, and a header with no operation
    with open(os.path.join(out_dir, "empty"), "wb"):
        pass
    with open(os.path.join(out_dir, "header-only"), "wb") as f:
        f.write(bytes([0x3F, 0xFF, 0xFF, 0x01]))
    # tables of 2^20 buckets, a key kind each, in a directory of their own that
    # ctest replays but fuzz/run.sh does not give libFuzzer: with them among its
    # seeds, whose mutations each allocate and walk the large table, it ran a
    # third to a half as many inputs a second
    large_dir = out_dir.rstrip("/") + "-large"
    os.makedirs(large_dir, exist_ok=True)
    rng = random.Random(0x5EED + 2)
    for ks_i in (3, 4, 6):
        with open(os.path.join(large_dir, "large-%d" % KEY_SIZES[ks_i]), "wb") as f:
            f.write(build_big(rng, ks_i))


if __name__ == "__main__":
    main()
