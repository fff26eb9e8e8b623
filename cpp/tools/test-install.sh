#!/usr/bin/env bash
# Installs a bce4j build tree into a fresh temporary prefix and builds programs against the installed package
# alone, as a project outside this tree would:
#   1. cmake --install BUILD_DIR --prefix TMP: installs what is built, rebuilds nothing; then the installed files
#      are checked against the expected list (no test programs);
#   2. cpp/examples/consumer (find_package(bce4j 0.1) and bce4j::bce4j), configured and built out of tree with
#      -DCMAKE_PREFIX_PATH=TMP, and run;
#   3. cpp/examples/seed_example.c compiled with cc $(pkg-config --cflags --libs bce4j), PKG_CONFIG_PATH=TMP's
#      pkgconfig directory, and run;
#   4. readelf: the installed library's SONAME is libbce4j.so.1 and both programs NEED libbce4j.so.1;
#   and where the build has libbce4j_cuda.so, that the installed libbce4j loads it (from its own directory).
# The programs find the library through an RPATH to TMP's library directory (CMake sets it in its build tree; the
# pkg-config build adds -Wl,-rpath from the .pc file's libdir) rather than LD_LIBRARY_PATH, which is unset for the
# runs: so each program is tied to the installed copy, and ldd checks that this is the copy it loads, not the build
# tree's or one installed system-wide.
#
# Usage: cpp/tools/test-install.sh BUILD_DIR     (CTest runs it on its build tree as c_install_consumers)
# Environment: CMAKE (default cmake; CTest passes the cmake that configured the tree), CC (default cc).
# Exit status: 0 pass; 1 fail; 2 usage; 77 everything passed but the pkg-config part, which could not run because
# pkg-config is not installed (CTest reports the test as skipped).
set -euo pipefail

if [ $# -ne 1 ] || [ ! -f "$1/CMakeCache.txt" ]; then
  echo "usage: $0 BUILD_DIR (a configured and built bce4j build tree)" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
examples=$(cd "$(dirname "$0")/../examples" && pwd)
cmake=${CMAKE:-cmake}
cc=${CC:-cc}
unset LD_LIBRARY_PATH

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bce4j-test-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
log=$tmp/log

fail() {
  echo "test-install: FAIL: $*"
  exit 1
}
# Runs a command with its output in $log, shown only when it fails.
quietly() {
  if ! "$@" >"$log" 2>&1; then
    cat "$log"
    fail "$*"
  fi
}

libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
includedir=$(sed -n 's/^CMAKE_INSTALL_INCLUDEDIR:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
case "$libdir$includedir" in
  /*) fail "CMAKE_INSTALL_LIBDIR or CMAKE_INSTALL_INCLUDEDIR is absolute in $build_dir: no temporary prefix then" ;;
esac
case "$libdir" in
  "") fail "no CMAKE_INSTALL_LIBDIR in $build_dir/CMakeCache.txt (configured before cmake/Install.cmake existed?)" ;;
esac

# 1. Install, and the installed files.
quietly "$cmake" --install "$build_dir" --prefix "$prefix"
expected="$includedir/bce4j/bce4j.h
$libdir/cmake/bce4j/bce4jConfig.cmake
$libdir/cmake/bce4j/bce4jConfigVersion.cmake
$libdir/cmake/bce4j/bce4jTargets-*.cmake
$libdir/cmake/bce4j/bce4jTargets.cmake
$libdir/libbce4j.so
$libdir/libbce4j.so.1
$libdir/libbce4j_cuda.so
$libdir/pkgconfig/bce4j.pc"
while read -r installed; do
  known=no
  while read -r pattern; do
    # shellcheck disable=SC2053  # the pattern's glob is meant
    [[ $installed == $pattern ]] && known=yes
  done <<<"$expected"
  [ $known = yes ] || fail "installed a file that is not part of the package: $installed"
done < <(cd "$prefix" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
for required in "$includedir/bce4j/bce4j.h" "$libdir/libbce4j.so.1" "$libdir/cmake/bce4j/bce4jConfig.cmake" \
                "$libdir/cmake/bce4j/bce4jConfigVersion.cmake" "$libdir/pkgconfig/bce4j.pc"; do
  [ -f "$prefix/$required" ] || fail "not installed: $required"
done
if [ ! -L "$prefix/$libdir/libbce4j.so" ] || [ "$(readlink "$prefix/$libdir/libbce4j.so")" != libbce4j.so.1 ]; then
  fail "$libdir/libbce4j.so is not a link to libbce4j.so.1"
fi
soname=$(readelf -d "$prefix/$libdir/libbce4j.so.1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libbce4j.so.1 ] || fail "the SONAME of libbce4j.so.1 is '$soname', not libbce4j.so.1"
echo "test-install: installed into a temporary prefix; SONAME $soname"

# Runs PROGRAM, which must load libbce4j.so.1 from the temporary prefix and NEED it by its SONAME.
check_program() {
  local program=$1 what=$2 needed loaded
  needed=$(readelf -d "$program" | sed -n 's/.*(NEEDED).*\[\(libbce4j[^]]*\)\]/\1/p')
  [ "$needed" = libbce4j.so.1 ] || fail "$what: NEEDED is '$needed', not libbce4j.so.1"
  loaded=$(ldd "$program" | sed -n 's/^[[:space:]]*libbce4j\.so\.1 => \([^ ]*\).*/\1/p')
  [ "$loaded" -ef "$prefix/$libdir/libbce4j.so.1" ] ||
    fail "$what: loads libbce4j.so.1 from '$loaded', not from the temporary prefix"
  quietly "$program"
  echo "test-install: $what: NEEDED libbce4j.so.1, runs: $(cat "$log")"
}

# 2. The CMake consumer, out of tree.
quietly "$cmake" -S "$examples/consumer" -B "$tmp/consumer-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_COMPILER="$cc"
found=$(sed -n 's/^bce4j_DIR:[A-Z]*=//p' "$tmp/consumer-build/CMakeCache.txt")
[ "$found" -ef "$prefix/$libdir/cmake/bce4j" ] || fail "find_package(bce4j) found '$found', not the temporary prefix"
quietly "$cmake" --build "$tmp/consumer-build"
check_program "$tmp/consumer-build/seed_example" "CMake consumer (find_package, bce4j::bce4j)"

# Where the build has libbce4j_cuda.so, the installed libbce4j loads it from its own directory.
if [ -e "$prefix/$libdir/libbce4j_cuda.so" ]; then
  cat >"$tmp/cuda_library.c" <<'EOF_C'
#include <bce4j/bce4j.h>
#include <stdio.h>
int main(void) {
    printf("%s\n", bce4j_cuda_description());
    return bce4j_cuda_availability() == BCE4J_CUDA_LIBRARY_ABSENT;
}
EOF_C
  quietly "$cc" "$tmp/cuda_library.c" -o "$tmp/cuda_library" -I"$prefix/$includedir" -L"$prefix/$libdir" -lbce4j \
    -Wl,-rpath,"$prefix/$libdir"
  quietly "$tmp/cuda_library"
  echo "test-install: the installed libbce4j_cuda.so is found: cuda $(cat "$log")"
fi

# 3. The pkg-config consumer.
if ! command -v pkg-config >/dev/null; then
  echo "test-install: SKIPPED the pkg-config consumer: pkg-config is not installed (apt-get install pkg-config);" \
    "everything else passed"
  exit 77
fi
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
quietly pkg-config --exists --print-errors bce4j
pc_flags=$(pkg-config --cflags --libs bce4j)
pc_libdir=$(pkg-config --variable=libdir bce4j)
# shellcheck disable=SC2086  # pkg-config's flags are meant to be split
quietly "$cc" "$examples/seed_example.c" -o "$tmp/seed_example_pkg_config" $pc_flags -lm -Wl,-rpath,"$pc_libdir"
check_program "$tmp/seed_example_pkg_config" "pkg-config consumer (bce4j $(pkg-config --modversion bce4j))"

echo "test-install: PASS"
