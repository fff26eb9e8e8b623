# Natives that load on older Linux distributions than the one they are built on. Included at the end of
# CMakeLists.txt, after the targets exist. Two parts:
#
# 1. Symbol pins (always, on glibc; BCE4J_GLIBC_SYMBOL_PINS=OFF disables): cpp/src/platform/glibc_symbol_pins.h is
#    force-included into every C/C++ translation unit of libbce4j, binding exp/log/dlopen/... to their original
#    glibc versions, and libdl.so.2 is made a NEEDED library of libbce4j (on glibc < 2.34 those dl* versions live
#    there; a toolchain that links --as-needed, as Debian's does, would drop it on a glibc >= 2.34 build host).
#
# 2. A link sysroot (BCE4J_LINK_SYSROOT=DIR, a root made by cpp/tools/bullseye-root.sh): libbce4j and libbce4j_cuda
#    are LINKED (not compiled: the headers stay the host's) against that root's glibc, so every symbol gets the
#    version the old glibc has, including those of the static CUDA runtime inside libbce4j_cuda, which cannot be
#    pinned. A symbol the old glibc lacks then fails the link (--no-undefined) instead of the load on a user's machine.
#    Only the shared libraries: an executable would get the host's crt1.o, which needs the host's glibc.
#
#   cmake -S . -B build -DBCE4J_LINK_SYSROOT=$PWD/build/bullseye-root
#   cpp/tools/check-glibc.sh --max-glibc 2.28 build/libbce4j.so*        # measures the result
set(BCE4J_LINK_SYSROOT "" CACHE PATH
  "A Debian root (cpp/tools/bullseye-root.sh) whose glibc libbce4j and libbce4j_cuda are linked against; empty: the host's")
option(BCE4J_GLIBC_SYMBOL_PINS "Bind glibc functions whose symbol version moved to their original version" ON)

set(bce4j_portable_targets bce4j)
if(TARGET bce4j_cuda)
  list(APPEND bce4j_portable_targets bce4j_cuda)
endif()

# 1. The pins, on glibc (not musl, whose libc has neither these versions nor libdl.so.2).
if(BCE4J_GLIBC_SYMBOL_PINS AND CMAKE_SYSTEM_NAME STREQUAL "Linux")
  include(CheckCXXSourceCompiles)
  check_cxx_source_compiles("#include <features.h>\n#ifndef __GLIBC__\n#error not glibc\n#endif\nint main() {}"
    BCE4J_HAVE_GLIBC)
endif()
if(BCE4J_GLIBC_SYMBOL_PINS AND BCE4J_HAVE_GLIBC)
  set(bce4j_pins_header ${CMAKE_CURRENT_LIST_DIR}/../cpp/src/platform/glibc_symbol_pins.h)
  get_filename_component(bce4j_pins_header ${bce4j_pins_header} ABSOLUTE)
  # (GCC's dependency files list a force-included header, so a change to it recompiles what includes it.)
  foreach(bce4j_target IN ITEMS bce4j bce4j_internals)
    target_compile_options(${bce4j_target} PRIVATE
      "$<$<COMPILE_LANGUAGE:C,CXX>:SHELL:-include ${bce4j_pins_header}>")
  endforeach()
  # --push-state keeps the toolchain's --as-needed for everything after.
  target_link_options(bce4j PRIVATE "LINKER:--push-state,--no-as-needed,-l:libdl.so.2,--pop-state")
endif()

# 2. The link sysroot.
if(BCE4J_LINK_SYSROOT)
  get_filename_component(bce4j_sysroot "${BCE4J_LINK_SYSROOT}" ABSOLUTE)
  set(bce4j_multiarch "${CMAKE_LIBRARY_ARCHITECTURE}")
  if(NOT bce4j_multiarch)
    set(bce4j_multiarch "${CMAKE_SYSTEM_PROCESSOR}-linux-gnu")
  endif()
  if(NOT EXISTS "${bce4j_sysroot}/usr/lib/${bce4j_multiarch}/libc.so"
     OR NOT EXISTS "${bce4j_sysroot}/usr/lib/${bce4j_multiarch}/libc_nonshared.a")
    message(FATAL_ERROR "bce4j: BCE4J_LINK_SYSROOT=${bce4j_sysroot} has no usr/lib/${bce4j_multiarch}/libc.so: "
      "make it with cpp/tools/bullseye-root.sh ${bce4j_sysroot}")
  endif()
  # Its libdl.so, libpthread.so, ... must not be absolute symlinks (the linker would follow them to the host's).
  file(READ_SYMLINK "${bce4j_sysroot}/usr/lib/${bce4j_multiarch}/libpthread.so" bce4j_pthread_link)
  if(bce4j_pthread_link MATCHES "^/")
    message(FATAL_ERROR "bce4j: ${bce4j_sysroot}/usr/lib/${bce4j_multiarch}/libpthread.so is an absolute symlink, "
      "which the linker resolves on the host: run cpp/tools/bullseye-root.sh ${bce4j_sysroot} again to fix the links")
  endif()
  # --sysroot makes ld prefix the absolute paths in the root's libc.so/libm.so linker scripts and its own default
  # search directories with the root; the -L directories come before the compiler driver's own -L (GCC's, which
  # still provide libstdc++ and libgomp: the root has no libstdc++.so or libgomp.so development link).
  foreach(bce4j_target IN LISTS bce4j_portable_targets)
    target_link_options(${bce4j_target} PRIVATE
      "LINKER:--sysroot=${bce4j_sysroot}"
      "-L${bce4j_sysroot}/usr/lib/${bce4j_multiarch}"
      "-L${bce4j_sysroot}/lib/${bce4j_multiarch}")
  endforeach()
  message(STATUS "bce4j: linking ${bce4j_portable_targets} against the glibc in ${bce4j_sysroot}")
endif()
