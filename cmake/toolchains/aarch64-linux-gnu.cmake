# Cross-building for linux-arm64 (aarch64) on an x86-64 Debian host with Debian's cross toolchain
# (apt-get install g++-aarch64-linux-gnu qemu-user), e.g.
#   cmake -S . -B target/cmake/linux-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#     -DCMAKE_BUILD_TYPE=Release -DBCE4J_TESTS=ON
#   cmake --build target/cmake/linux-arm64 -j2 && ctest --test-dir target/cmake/linux-arm64 -LE exhaustive
# CTest runs the aarch64 test programs through qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR), which finds the
# target's dynamic loader and libraries in the toolchain's sysroot. BCE4J_QEMU_CPU chooses the emulated CPU model
# (qemu's default is "max", which has every feature qemu emulates, BF16 included).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(BCE4J_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${BCE4J_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${BCE4J_CROSS_TRIPLE}-g++)
# The cross toolchain's glibc, libstdc++ and libgomp (packages libc6-dev-arm64-cross and the like).
set(BCE4J_CROSS_SYSROOT /usr/${BCE4J_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH ${BCE4J_CROSS_SYSROOT})

# Programs (compilers, tools) from the host; libraries and packages only for the target, so that nothing built for
# x86-64 (the host's GoogleTest, say) is ever picked up: CMakeLists.txt builds GoogleTest from its
# sources for the target instead.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(BCE4J_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(NOT BCE4J_QEMU_AARCH64)
  message(FATAL_ERROR "qemu-aarch64 was not found; the aarch64 tests run through it: apt-get install -y qemu-user")
endif()
set(BCE4J_QEMU_CPU "" CACHE STRING "The CPU model qemu-aarch64 emulates for the tests (-cpu); empty: qemu's default")
set(CMAKE_CROSSCOMPILING_EMULATOR ${BCE4J_QEMU_AARCH64} -L ${BCE4J_CROSS_SYSROOT})
if(BCE4J_QEMU_CPU)
  list(APPEND CMAKE_CROSSCOMPILING_EMULATOR -cpu ${BCE4J_QEMU_CPU})
endif()
