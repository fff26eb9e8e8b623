#!/usr/bin/env bash
# Prints, for each shared library, the highest symbol versions it REQUIRES (its version needs, readelf -V) from
# glibc, libstdc++ (GLIBCXX, CXXABI), libgcc_s (GCC) and the OpenMP runtime (GOMP, OMP), one line per library,
# and fails naming the library and its symbols where a bound is exceeded.
#
#   cpp/tools/check-glibc.sh [--max-glibc 2.28] [--max-glibcxx 3.4.25] [--max-cxxabi 1.3.11] [--max-gcc V]
#                            FILE_OR_DIR...
#
# Directories are searched (not recursively into symlinked folders) for *.so and *.so.* files. Exit status: 0 when
# every library is within the bounds, 1 when one is not (the offenders go to standard error), 2 on bad usage.
# A GLIBC version that is not a number (GLIBC_PRIVATE, GLIBC_ABI_DT_RELR from -z pack-relative-relocs) cannot be
# had from an older glibc, so it always fails.
#
# Reference points (x86-64): glibc 2.17 = CentOS 7, 2.28 = Debian 10 / RHEL 8, 2.31 = Debian 11 / Ubuntu 20.04.
# GLIBCXX 3.4.25 / CXXABI 1.3.11 = GCC 8's libstdc++.
set -euo pipefail

max_glibc=2.28
max_glibcxx=3.4.25
max_cxxabi=1.3.11
max_gcc=
usage() {
  sed -n '2,/^set -e/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2
  exit 2
}
paths=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --max-glibc) max_glibc=${2:?}; shift 2 ;;
    --max-glibcxx) max_glibcxx=${2:?}; shift 2 ;;
    --max-cxxabi) max_cxxabi=${2:?}; shift 2 ;;
    --max-gcc) max_gcc=${2:?}; shift 2 ;;
    -h|--help) usage ;;
    --) shift; paths+=("$@"); break ;;
    -*) echo "check-glibc: unknown option $1" >&2; usage ;;
    *) paths+=("$1"); shift ;;
  esac
done
[[ ${#paths[@]} -gt 0 ]] || usage
command -v readelf >/dev/null && command -v objdump >/dev/null ||
  { echo "check-glibc: needs readelf and objdump (Debian package binutils)" >&2; exit 2; }

# version_gt A B: A > B in version order (both plain dotted numbers).
version_gt() { [[ $1 != "$2" && $(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1) == "$1" ]]; }

libraries=()
for p in "${paths[@]}"; do
  if [[ -d $p ]]; then
    while IFS= read -r -d '' f; do libraries+=("$f"); done \
      < <(find "$p" \( -name '*.so' -o -name '*.so.*' \) \( -type f -o -type l \) -print0 | sort -z)
  elif [[ -e $p ]]; then
    libraries+=("$p")
  else
    echo "check-glibc: $p: no such file or directory" >&2; exit 2
  fi
done

declare -A seen=()
status=0
checked=0
for lib in "${libraries[@]}"; do
  real=$(realpath "$lib")
  [[ -z ${seen[$real]:-} ]] || continue
  seen[$real]=1
  [[ $(head -c 4 "$real" | od -An -c | tr -d ' ') == 177ELF ]] || continue
  checked=$((checked + 1))

  # The version needs: "Name: GLIBC_2.34  Flags: ..." lines of .gnu.version_r.
  needs=$(readelf -V --wide "$real" | awk '/^Version needs section/ { on = 1; next } /^Version .* section/ { on = 0 }
                                           on && /Name:/ { for (i = 1; i < NF; i++) if ($i == "Name:") print $(i + 1) }' |
          sort -u)
  line="$lib:"
  offending_versions=()
  for family in GLIBC GLIBCXX CXXABI GCC GOMP OMP; do
    numeric=$(grep -E "^${family}_[0-9][0-9.]*$" <<<"$needs" | sed "s/^${family}_//" | sort -V | tail -1 || true)
    line+=" $family ${numeric:--}"
    case $family in
      GLIBC) bound=$max_glibc ;;
      GLIBCXX) bound=$max_glibcxx ;;
      CXXABI) bound=$max_cxxabi ;;
      GCC) bound=$max_gcc ;;
      *) bound= ;;
    esac
    if [[ -n $bound ]]; then
      for v in $(grep -E "^${family}_[0-9][0-9.]*$" <<<"$needs" | sed "s/^${family}_//" || true); do
        if version_gt "$v" "$bound"; then offending_versions+=("${family}_$v"); fi
      done
    fi
  done
  # Non-numeric glibc versions (GLIBC_PRIVATE, GLIBC_ABI_DT_RELR) exist only in the glibc that was linked against.
  for v in $(grep -E '^GLIBC_[^0-9]' <<<"$needs" || true); do
    offending_versions+=("$v"); line+=" +$v"
  done
  echo "$line"

  if [[ ${#offending_versions[@]} -gt 0 ]]; then
    status=1
    table=$(objdump -T "$real")
    for v in "${offending_versions[@]}"; do
      # Undefined dynamic symbols carry their needed version in parentheses: "... *UND* ... (GLIBC_2.34) dlopen".
      symbols=$(awk -v want="($v)" '$0 ~ /\*UND\*/ { for (i = 1; i < NF; i++) if ($i == want) print $NF }' \
                <<<"$table" | sort -u | paste -sd ' ')
      case $v in
        GLIBC_*) bound=$max_glibc ;;
        GLIBCXX_*) bound=$max_glibcxx ;;
        CXXABI_*) bound=$max_cxxabi ;;
        GCC_*) bound=$max_gcc ;;
      esac
      echo "check-glibc: $lib needs $v (bound ${bound}): ${symbols:-(no symbol names it: a version need alone)}" >&2
    done
  fi
done

if [[ $checked -eq 0 ]]; then
  echo "check-glibc: no ELF shared library found in: ${paths[*]}" >&2
  exit 2
fi
if [[ $status -ne 0 ]]; then
  echo "check-glibc: FAILED: above GLIBC $max_glibc / GLIBCXX $max_glibcxx / CXXABI $max_cxxabi${max_gcc:+ / GCC $max_gcc}" >&2
fi
exit $status
