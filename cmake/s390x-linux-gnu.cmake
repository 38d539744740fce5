# A cross build for 64-bit big-endian s390x, run under qemu-user: .ci/run's
# big-endian check. Debian's packages: gcc-s390x-linux-gnu, libc6-dev-s390x-cross,
# qemu-user and libcmocka-dev:s390x (after dpkg --add-architecture s390x), whose
# libc6:s390x is also what qemu-s390x loads the tests with.
#
#   cmake -S . -B build-s390x -DCMAKE_TOOLCHAIN_FILE=cmake/s390x-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(CMAKE_C_COMPILER s390x-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE s390x-linux-gnu)
# Without -L: the cross toolchain's own libc (/usr/s390x-linux-gnu) is older
# than the multiarch libc6:s390x that libcmocka0:s390x comes with, and a
# program run on the older one aborted at once ("stack smashing detected").
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-s390x)
