#!/usr/bin/env bash
# Puts the natives to ship in one folder (the jar's org/bce4j/<platform>/): libbce4j under its SONAME
# (libbce4j.so.1), its OpenMP runtime as libgomp-bce4j.so.1, and
# libbce4j_cuda.so where the build has one. The build tree keeps its own, unstripped and unpatched, libraries.
#
#   cpp/tools/bundle-natives.sh [--openmp-runtime PATH] [--cuda-library PATH | --no-cuda] [--cuda-dir DIR]
#                               CMAKE_BUILD_DIR_OR_LIBBCE4J OUTPUT_DIR
#
# --cuda-dir puts libbce4j_cuda.so in a folder of its own (the CUDA jar's org/bce4j/<platform>-gpu/) instead of
# OUTPUT_DIR, and empties that folder when the build has no CUDA library.
# --notice FILE (repeatable) copies FILE into META-INF/ of each jar's root, three folders above OUTPUT_DIR and the
# CUDA folder (org/bce4j/<platform>/): the licences of what the jars bundle.
#
# The OpenMP runtime is renamed so that it never stands in for another library's libgomp.so.1 in the same
# process (libtorch's, the system's): libgomp-bce4j.so.1 has that SONAME, libbce4j's NEEDED libgomp.so.1 becomes
# libgomp-bce4j.so.1 and libbce4j's RUNPATH $ORIGIN, so it is found beside libbce4j wherever the folder is
# extracted. Which runtime (--openmp-runtime overrides):
#   - a build configured with BCE4J_LINK_SYSROOT (read from CMAKE_BUILD_DIR/CMakeCache.txt): that root's
#     libgomp.so.1 (bullseye: GCC 10's, needs glibc 2.17 at most);
#   - else the libgomp.so.1 that libbce4j resolves to here (ldd), else the compiler's (-print-file-name of $CXX,
#     else of the build's own compiler where CMAKE_BUILD_DIR is given: a cross build's cross compiler, else g++).
# Every GOMP_*/OMP_* symbol version libbce4j needs must be defined by that runtime: checked here.
# The copies lose their debug information (strip --strip-debug, with the build's CMAKE_STRIP where CMAKE_BUILD_DIR is
# given: a cross build's aarch64-linux-gnu-strip). Needs patchelf (Debian package `patchelf`) and binutils.
set -euo pipefail

die() { echo "bundle-natives: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -e/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2; }

openmp_runtime=
cuda_library=
cuda=auto
cuda_dir=
notices=()
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --openmp-runtime) openmp_runtime=${2:?}; shift 2 ;;
    --cuda-library) cuda_library=${2:?}; cuda=yes; shift 2 ;;
    --no-cuda) cuda=no; shift ;;
    --cuda-dir) cuda_dir=${2:?}; shift 2 ;;
    --notice) notices+=("${2:?}"); shift 2 ;;
    --help) usage ;;
    *) echo "bundle-natives: unknown option $1" >&2; usage ;;
  esac
done
[[ $# -eq 2 ]] || usage
input=$1
out=$2

command -v patchelf >/dev/null ||
  die "patchelf not found: install the Debian package patchelf (apt-get install -y patchelf)"
command -v readelf >/dev/null || die "readelf not found: install the Debian package binutils"

soname_of() { readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'; }
needed_of() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# libbce4j, and the build tree it came from.
build_dir=
if [[ -d $input ]]; then
  build_dir=$(cd "$input" && pwd)
  library=$build_dir/libbce4j.so.1
  [[ -e $library ]] || die "no libbce4j.so.1 in $build_dir: build it first"
elif [[ -f $input ]]; then
  library=$input
  [[ -f $(dirname "$input")/CMakeCache.txt ]] && build_dir=$(cd "$(dirname "$input")" && pwd)
else
  die "$input: no such file or directory"
fi
library_file=$(realpath "$library")
library_dir=$(dirname "$library_file")
library_soname=$(soname_of "$library_file")
[[ $library_soname == libbce4j.so* ]] || die "$library has SONAME '$library_soname', not libbce4j.so*"

# The build's own compiler, its multiarch folder name and strip (a cross build's). The first two are not in the cache
# where a toolchain file names the compiler: CMake records what it found in CMakeFiles/.
compiler_value() {
  cat "${build_dir:-/nonexistent}"/CMakeFiles/*/CMakeCXXCompiler.cmake 2>/dev/null |
    sed -n "s/^set($1 \"\(.*\)\")\$/\1/p" | head -1 || true
}
build_cxx=$(compiler_value CMAKE_CXX_COMPILER)
build_multiarch=$(compiler_value CMAKE_CXX_LIBRARY_ARCHITECTURE)
build_strip=$(sed -n 's/^CMAKE_STRIP:[A-Z]*=//p' "${build_dir:-/nonexistent}/CMakeCache.txt" 2>/dev/null || true)
compiler=${CXX:-${build_cxx:-g++}}
strip_tool=${build_strip:-strip}
command -v "$strip_tool" >/dev/null || die "$strip_tool not found (binutils for the target)"

case $cuda in
  auto)
    cuda_library=
    [[ -e $library_dir/libbce4j_cuda.so ]] && cuda_library=$library_dir/libbce4j_cuda.so
    if [[ -z $cuda_library && -n $build_dir && -e $build_dir/libbce4j_cuda.so ]]; then
      cuda_library=$build_dir/libbce4j_cuda.so
    fi ;;
  yes) [[ -f $cuda_library ]] || die "$cuda_library: no such file" ;;
  no) cuda_library= ;;
esac

# The OpenMP runtime libbce4j needs, and the one to bundle.
gomp_needed=$(needed_of "$library_file" | grep -E '^libgomp\.so' || true)
[[ -n $gomp_needed ]] || die "$library does not need libgomp (NEEDED: $(needed_of "$library_file" | tr '\n' ' '))"
how=
if [[ -n $openmp_runtime ]]; then
  how="given"
elif [[ -n $build_dir && -f $build_dir/CMakeCache.txt ]] && sysroot=$(sed -n 's/^BCE4J_LINK_SYSROOT:[A-Z]*=//p' "$build_dir/CMakeCache.txt") &&
     [[ -n $sysroot ]]; then
  openmp_runtime=$sysroot/usr/lib/${build_multiarch:-$(uname -m)-linux-gnu}/$gomp_needed
  how="the link sysroot's (BCE4J_LINK_SYSROOT)"
else
  # (ldd fails on a cross build's library: then the compiler's.)
  openmp_runtime=$(ldd "$library_file" 2>/dev/null | awk -v n="$gomp_needed" '$1 == n && $3 ~ /^\// { print $3 }' ||
    true)
  how="the one libbce4j resolves to here (ldd)"
  if [[ -z $openmp_runtime ]]; then
    openmp_runtime=$("$compiler" -print-file-name="$gomp_needed")
    how="the compiler's ($compiler -print-file-name)"
  fi
fi
[[ -f $openmp_runtime ]] || die "OpenMP runtime $openmp_runtime ($how) not found"
openmp_runtime=$(realpath "$openmp_runtime")
[[ $(soname_of "$openmp_runtime") == "$gomp_needed" ]] ||
  die "$openmp_runtime has SONAME '$(soname_of "$openmp_runtime")', libbce4j needs $gomp_needed"

# Every version libbce4j needs from libgomp (GOMP_4.0, OMP_1.0, ...) must be defined by the runtime bundled: a
# newer compiler may emit calls to entry points an older libgomp lacks.
needed_versions=$(readelf -V --wide "$library_file" | awk -v f="$gomp_needed" '
  /File:/ { on = 0; for (i = 1; i < NF; i++) if ($i == "File:") on = ($(i + 1) == f) }
  on && /Name:/ { for (i = 1; i < NF; i++) if ($i == "Name:") print $(i + 1) }' | sort -u)
defined_versions=$(readelf -V --wide "$openmp_runtime" | awk '
  /^Version definition section/ { on = 1; next } /^Version .* section/ { on = 0 }
  on && /Name:/ { for (i = 1; i < NF; i++) if ($i == "Name:") print $(i + 1) }' | sort -u)
missing=$(comm -23 <(printf '%s\n' $needed_versions) <(printf '%s\n' $defined_versions) | tr '\n' ' ')
[[ -z ${missing// /} ]] ||
  die "$openmp_runtime does not define $missing(needed by $library): bundle a newer libgomp or build with an older GCC"

bundled_gomp=libgomp-bce4j.so.1
mkdir -p "$out"
out=$(cd "$out" && pwd)
[[ $out != "$library_dir" && $out != "${build_dir:-/nonexistent}" ]] ||
  die "OUTPUT_DIR is the build's own folder: give another (the build keeps the unpatched libraries)"

staging=$(mktemp -d "$out/.bundle-natives.XXXXXX")
trap 'rm -rf "$staging"' EXIT

cp -L "$library_file" "$staging/$library_soname"
cp -L "$openmp_runtime" "$staging/$bundled_gomp"
[[ -n $cuda_library ]] && cp -L "$cuda_library" "$staging/libbce4j_cuda.so"
chmod u+w "$staging"/*
# Strip first, patch after: strip rewrites the file, and patchelf's layout is then left as it made it.
"$strip_tool" --strip-debug "$staging"/lib*
patchelf --set-soname "$bundled_gomp" "$staging/$bundled_gomp"
patchelf --replace-needed "$gomp_needed" "$bundled_gomp" "$staging/$library_soname"
patchelf --set-rpath '$ORIGIN' "$staging/$library_soname"

# What the patching must have produced.
[[ $(soname_of "$staging/$bundled_gomp") == "$bundled_gomp" ]] || die "patchelf did not set the SONAME"
needed_of "$staging/$library_soname" | grep -qx "$bundled_gomp" || die "patchelf did not replace NEEDED $gomp_needed"
! needed_of "$staging/$library_soname" | grep -qx "$gomp_needed" || die "libbce4j still needs $gomp_needed"

# Replace earlier products, and a libgomp.so.1 left by an earlier bundling (JavaCPP's copyLibs): shipped beside
# the renamed one it would be loaded by nobody, or by the JNI glue's preload, which is worse.
rm -f "$out"/libbce4j.so "$out"/libbce4j.so.* "$out/$bundled_gomp" "$out/libbce4j_cuda.so" "$out/$gomp_needed"
jar_root() { dirname "$(dirname "$(dirname "$1")")"; } # above org/bce4j/<platform>/, by name: it may not exist
jar_roots=("$(jar_root "$out")")
if [[ -n $cuda_dir ]]; then
  # The CUDA jar's whole folder is made anew: with no CUDA library it must not exist (an empty folder or one with
  # only notices would still become a jar).
  rm -rf "$(jar_root "$cuda_dir")"
  if [[ -n $cuda_library ]]; then
    mkdir -p "$cuda_dir"
    mv "$staging/libbce4j_cuda.so" "$cuda_dir/"
    jar_roots+=("$(jar_root "$cuda_dir")")
  fi
fi
mv "$staging"/lib* "$out/"
if [[ ${#notices[@]} -gt 0 ]]; then
  for root in "${jar_roots[@]}"; do
    mkdir -p "$root/META-INF"
    cp "${notices[@]}" "$root/META-INF/"
  done
fi

echo "bundle-natives: $out"
echo "  $library_soname  <- $library_file (NEEDED $gomp_needed -> $bundled_gomp, RUNPATH \$ORIGIN)"
echo "  $bundled_gomp  <- $openmp_runtime ($how; defines $(printf '%s ' $needed_versions)for libbce4j)"
if [[ -n $cuda_library ]]; then
  echo "  ${cuda_dir:+$cuda_dir/}libbce4j_cuda.so  <- $(realpath "$cuda_library")"
else
  echo "  (no libbce4j_cuda.so)"
fi
