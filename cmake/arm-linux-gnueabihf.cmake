# A cross build for 32-bit ARM (armhf: little-endian, 32-bit size_t, unsigned
# char), run under qemu-user: .ci/run's 32-bit check. Debian's packages:
# gcc-arm-linux-gnueabihf, libc6-dev-armhf-cross, qemu-user and
# libcmocka-dev:armhf (after dpkg --add-architecture armhf), whose libc6:armhf
# is also what qemu-arm loads the tests with.
#
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=cmake/arm-linux-gnueabihf.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
# No -L, as for s390x (s390x-linux-gnu.cmake): the multiarch libc6:armhf.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm)
