#!/bin/sh
# The pkg-config consumer: builds app.c, in the current directory, against
# the hashmap.pc that PKG_CONFIG_PATH leads to. package_test.sh runs it with
# CC and CFLAGS set: the test's compiler, and the sanitizer flags when the
# library was built with them.
set -eu
# shellcheck disable=SC2086 # CFLAGS holds several flags
cc() { "${CC:-cc}" ${CFLAGS:-} "$@"; }

# What the README shows:
# shellcheck disable=SC2046 # pkg-config prints several flags
cc -o app app.c $(pkg-config --cflags --libs hashmap)
