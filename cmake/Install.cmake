# `cmake --install <build> [--prefix <dir>]`: the C library as a package that CMake and pkg-config find.
#   include/bce4j/bce4j.h
#   lib/libbce4j.so.1, the link lib/libbce4j.so, and lib/libbce4j_cuda.so where this build has it
#   lib/cmake/bce4j/bce4jConfig.cmake, bce4jConfigVersion.cmake, bce4jTargets*.cmake: the target bce4j::bce4j
#   lib/pkgconfig/bce4j.pc
# (lib is CMAKE_INSTALL_LIBDIR, e.g. lib/x86_64-linux-gnu for the prefix /usr on Debian.) Test programs are not
# installed. cpp/tools/test-install.sh installs a build into a temporary prefix and builds a consumer against it.
# Components: bce4j_Runtime (what programs load) and bce4j_Development (what builds against it), for packagers;
# a plain `cmake --install` installs both.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(BCE4J_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/bce4j)

# OpenMP and libdl are private to the shared library (its own NEEDED entries), so the imported target carries
# only the include directory: consumers need nothing else.
install(TARGETS bce4j EXPORT bce4jTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT bce4j_Runtime NAMELINK_COMPONENT bce4j_Development
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY cpp/include/bce4j DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT bce4j_Development FILES_MATCHING PATTERN "*.h")

# libbce4j loads libbce4j_cuda.so from its own directory (cpp/src/cuda_loader.cpp), under that unversioned name, so
# it goes beside libbce4j.so.1, and in the same component rather than one of its own: the two speak an internal
# interface (its version is checked at load) and must come from the same build. A CPU-only install is a build with
# -DBCE4J_CUDA=OFF; libbce4j works without it (CUDA calls report BCE4J_ERROR_UNAVAILABLE). Not exported: nothing
# links it.
if(TARGET bce4j_cuda)
  install(TARGETS bce4j_cuda LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT bce4j_Runtime)
endif()

install(EXPORT bce4jTargets NAMESPACE bce4j:: DESTINATION ${BCE4J_INSTALL_CMAKEDIR}
  COMPONENT bce4j_Development)
# No dependencies to find first, so the config file only loads the targets.
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/bce4jConfig.cmake
  "include(\"\${CMAKE_CURRENT_LIST_DIR}/bce4jTargets.cmake\")\n")
# While the project version is 0.x, a minor release may change the API, so find_package(bce4j 0.1) accepts 0.1.x
# only. From 1.0 on this becomes SameMajorVersion. (Binary compatibility is the SONAME's business: BCE4J_ABI_MAJOR.)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/bce4jConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/bce4jConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/bce4jConfigVersion.cmake
  DESTINATION ${BCE4J_INSTALL_CMAKEDIR} COMPONENT bce4j_Development)

# The .pc file finds the prefix from its own location (${pcfiledir}), so that it stays right when
# `cmake --install --prefix` installs elsewhere than CMAKE_INSTALL_PREFIX, or the tree is moved.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(BCE4J_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(BCE4J_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(BCE4J_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  file(RELATIVE_PATH bce4j_pc_to_prefix /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
  string(REGEX REPLACE "/$" "" bce4j_pc_to_prefix "${bce4j_pc_to_prefix}")
  set(BCE4J_PC_PREFIX "\${pcfiledir}/${bce4j_pc_to_prefix}")
  set(BCE4J_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(BCE4J_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(cmake/bce4j.pc.in ${CMAKE_CURRENT_BINARY_DIR}/bce4j.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/bce4j.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
  COMPONENT bce4j_Development)

# The install and its consumers (CMake and pkg-config), on this build tree. It installs what is built, rebuilds
# nothing, and takes a few seconds. Not with BCE4J_SANITIZE: a library built with AddressSanitizer aborts in a
# program built without it (the consumers are plain builds, as a user's would be).
# Not when cross-compiling either: the consumers are built with the build machine's compiler and run there.
if(BCE4J_TESTS AND NOT BCE4J_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  add_test(NAME c_install_consumers COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cpp/tools/test-install.sh
    ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(c_install_consumers PROPERTIES
    ENVIRONMENT "CMAKE=${CMAKE_COMMAND};CC=${CMAKE_C_COMPILER}"
    SKIP_RETURN_CODE 77)
endif()
