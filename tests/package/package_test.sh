#!/bin/sh
# The package tests' driver, run by ctest (tests/package/CMakeLists.txt sets
# the HM_* variables, CC, CFLAGS and LDFLAGS).
#
#   package_test.sh install
#       the fixture: installs the build into $HM_STAGE/prefix, and again into
#       $HM_STAGE/moving, which it then renames to $HM_STAGE/moved: the CMake
#       consumers build against a prefix that was never installed to, which
#       is what "relocatable" means.
#   package_test.sh find_shared | find_static | subdir | build_tree | pkgconfig
#       copies a consumer project and app.c into $HM_STAGE/<kind>, builds it
#       the way a user would, runs it and checks which libhashmap it runs with.
#   package_test.sh version_ok | version_major
#       find_package(hashmap <major>.<minor>) succeeds; <major+1>.0 fails
#       because of the version, not because nothing was found.
# Exits 77 (a skip) when the pkg-config consumer has no pkg-config.
set -eu

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

kind=$1
stage=${HM_STAGE:?} # every rm -rf below is under it: never empty
tests=$HM_PACKAGE_TESTS
moved=$stage/moved

# Single- and multi-config generators alike; an empty config is a plain build.
config_args=
if [ -n "${HM_CONFIG:-}" ]; then
    config_args="--config $HM_CONFIG"
fi

# configure_consumer SOURCE BUILD [cmake arguments...]
configure_consumer() {
    src=$1
    build=$2
    shift 2
    set -- -S "$src" -B "$build" -G "$HM_GENERATOR" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="${CFLAGS:-}" \
        -DCMAKE_EXE_LINKER_FLAGS="${LDFLAGS:-}" -DCMAKE_SHARED_LINKER_FLAGS="${LDFLAGS:-}" "$@"
    if [ -n "${HM_MAKE_PROGRAM:-}" ]; then
        set -- "$@" -DCMAKE_MAKE_PROGRAM="$HM_MAKE_PROGRAM"
    fi
    "$HM_CMAKE" "$@"
}

# realdir DIR: DIR with every symbolic link resolved, as /proc/self/maps has it.
realdir() {
    (cd "$1" && pwd -P)
}

case $kind in
install)
    rm -rf "$stage/prefix" "$stage/moving" "$moved"
    mkdir -p "$stage"
    # shellcheck disable=SC2086 # config_args is empty or two words
    "$HM_CMAKE" --install "$HM_BINARY_DIR" --prefix "$stage/prefix" $config_args
    # shellcheck disable=SC2086
    "$HM_CMAKE" --install "$HM_BINARY_DIR" --prefix "$stage/moving" $config_args
    mv "$stage/moving" "$moved"
    # Beyond "it builds": no file of the CMake package names where it was installed.
    if grep -rlF "$stage/moving" "$moved/$HM_LIBDIR/cmake"; then
        fail "the CMake package above names its install prefix: not relocatable"
    fi
    echo "installed into $stage/prefix and $moved"
    exit 0
    ;;
version_ok | version_major)
    major=${HM_VERSION%%.*}
    minor=${HM_VERSION#*.}
    minor=${minor%%.*}
    if [ "$kind" = version_ok ]; then
        request=$major.$minor
    else
        request=$((major + 1)).0
    fi
    rm -rf "${stage:?}/$kind"
    set +e
    "$HM_CMAKE" -S "$tests/version_request" -B "$stage/$kind" -DCMAKE_PREFIX_PATH="$moved" \
        -DHASHMAP_REQUEST="$request" -DHASHMAP_EXPECTED="$HM_VERSION" >"$stage/$kind.log" 2>&1
    status=$?
    set -e
    cat "$stage/$kind.log"
    if [ "$kind" = version_ok ]; then
        [ $status -eq 0 ] || fail "find_package(hashmap $request) failed"
    else
        [ $status -ne 0 ] || fail "find_package(hashmap $request) accepted version $HM_VERSION"
        grep -q "version: $HM_VERSION" "$stage/$kind.log" ||
            fail "find_package(hashmap $request) failed, but not on the version"
    fi
    echo "find_package(hashmap $request): $([ $status -eq 0 ] && echo found || echo rejected)"
    exit 0
    ;;
esac

work=$stage/$kind
rm -rf "${work:?}"
mkdir -p "$work/src"
cp "$tests/app.c" "$work/src/"
needed=libhashmap.so.$HM_SOVERSION # the SONAME, never the bare libhashmap.so
run_env=

case $kind in
find_shared | find_static)
    cp "$tests/$kind/CMakeLists.txt" "$work/src/"
    configure_consumer "$work/src" "$work/build" -DCMAKE_PREFIX_PATH="$moved"
    expect_dir=$moved/$HM_LIBDIR
    ;;
build_tree)
    # The build tree's export: find_package through -Dhashmap_DIR=<build dir>.
    cp "$tests/find_shared/CMakeLists.txt" "$work/src/"
    configure_consumer "$work/src" "$work/build" -Dhashmap_DIR="$HM_BINARY_DIR"
    expect_dir=$(dirname "$HM_SHARED_LIBRARY")
    ;;
subdir)
    # The way a project vendors libhashmap: a copy, or a link, in its tree.
    cp "$tests/subdir/CMakeLists.txt" "$work/src/"
    ln -s "$HM_SOURCE_DIR" "$work/src/libhashmap"
    configure_consumer "$work/src" "$work/build"
    expect_dir=$work/build/libhashmap
    ;;
pkgconfig)
    if ! command -v pkg-config >/dev/null 2>&1; then
        echo "pkg-config not found: skipped"
        exit 77
    fi
    # hashmap.pc holds its absolute prefix, as pkg-config files do: this
    # consumer uses the prefix that was installed to, not the moved one.
    expect_dir=$stage/prefix/$HM_LIBDIR
    (cd "$work/src" && PKG_CONFIG_PATH=$expect_dir/pkgconfig sh "$tests/pkgconfig/build.sh")
    # After a move, pkg-config --define-prefix (the README's advice) takes the
    # prefix from where hashmap.pc lies, two directories up: right for the
    # default libdir, lib, which is what the README promises it for.
    if [ "$HM_LIBDIR" = lib ]; then
        got=$(PKG_CONFIG_PATH=$moved/lib/pkgconfig pkg-config --define-prefix --cflags --libs hashmap)
        case $got in
        *"-I$moved/"*"-L$moved/"*) ;;
        *) fail "pkg-config --define-prefix on the moved prefix gave: $got" ;;
        esac
    fi
    mkdir -p "$work/build"
    mv "$work/src/app" "$work/build/app"
    run_env="LD_LIBRARY_PATH=$expect_dir"
    ;;
*)
    fail "unknown kind $kind"
    ;;
esac

if [ "$kind" != pkgconfig ]; then
    # shellcheck disable=SC2086
    "$HM_CMAKE" --build "$work/build" --parallel 2 $config_args
fi
app=$work/build/app
[ -x "$app" ] || app=$work/build/Release/app # multi-config generators
[ -x "$app" ] || fail "no app was built in $work/build"

# shellcheck disable=SC2086 # run_env is empty or one assignment
env $run_env "$app" >"$work/out" || fail "app exited with status $?: $(cat "$work/out")"
cat "$work/out"
"$HM_READELF" -d "$app" >"$work/dynamic"

grep -qx "version $HM_VERSION" "$work/out" || fail "app does not report version $HM_VERSION"
if [ "$kind" = find_static ]; then
    if grep -F libhashmap "$work/dynamic"; then
        fail "the static consumer needs a shared libhashmap"
    fi
    grep -qx "loaded none" "$work/out" || fail "the static consumer loaded a libhashmap.so"
else
    grep -qF "Shared library: [$needed]" "$work/dynamic" || {
        cat "$work/dynamic"
        fail "app does not need $needed"
    }
    expect=$(realdir "$expect_dir")/libhashmap.so.$HM_VERSION
    grep -qx "loaded $expect" "$work/out" || fail "app did not load $expect"
fi
echo "$kind: ok"
