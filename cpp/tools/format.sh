#!/usr/bin/env bash
# The repository's formatting: C, C++ and CUDA under cpp/ with clang-format (.clang-format), Java with the Eclipse
# formatter through formatter-maven-plugin (eclipse-java-format.xml, pinned in pom.xml).
#
#   cpp/tools/format.sh --apply   formats every C/C++ and Java file in place
#   cpp/tools/format.sh --check   fails, naming them and showing the changes, if a C/C++ file is not formatted
#
# mvn verify runs --check and the Java formatter's own check (formatter:validate); `mvn -N verify` runs just those.
# clang-format is pinned to one major version, because each formats a little differently: set CLANG_FORMAT to its
# path where it is not on PATH as clang-format-14 (it must still be version 14).
set -euo pipefail
cd "$(dirname "$0")/../.."

major=14
package=clang-format-$major
clang_format=${CLANG_FORMAT:-$package}

usage() {
  echo "usage: cpp/tools/format.sh --check | --apply" >&2
  exit 2
}
[ $# -eq 1 ] || usage
mode=$1
case $mode in --check | --apply) ;; *) usage ;; esac

if ! command -v "$clang_format" >/dev/null; then
  echo "format.sh: $clang_format not found; the C/C++ formatting needs clang-format $major" \
    "(Debian/Ubuntu: apt-get install $package)" >&2
  exit 1
fi
version=$("$clang_format" --version)
if [[ ! $version =~ version\ $major\. ]]; then
  echo "format.sh: $clang_format is '$version'; the C/C++ formatting is pinned to clang-format $major" \
    "(Debian/Ubuntu: apt-get install $package)" >&2
  exit 1
fi

mapfile -d '' files < <(find cpp -type f \( -name '*.c' -o -name '*.cc' -o -name '*.cpp' -o -name '*.h' \
  -o -name '*.hpp' -o -name '*.cu' -o -name '*.cuh' \) -print0 | sort -z)
[ ${#files[@]} -gt 0 ] || { echo "format.sh: no C/C++ files under cpp/" >&2; exit 1; }

if [ "$mode" = --apply ]; then
  "$clang_format" --style=file -i "${files[@]}"
  # -N: the parent's configuration formats every Java file of the repository.
  mvn -B -q -N formatter:format
  echo "formatted ${#files[@]} C/C++ files and the Java sources; see git diff"
  exit 0
fi

# One clang-format run for all files; it names each unformatted one (file:line:col: error: ...).
status=0
report=$("$clang_format" --style=file --dry-run --Werror "${files[@]}" 2>&1) || status=$?
[ $status -eq 0 ] && exit 0
mapfile -t unformatted < <(grep -oE '^[^:]+:[0-9]+:[0-9]+: error: code should be clang-formatted' <<<"$report" \
  | cut -d: -f1 | sort -u)
if [ ${#unformatted[@]} -eq 0 ]; then # clang-format itself failed (a bad .clang-format, say)
  echo "$report" >&2
  echo "format.sh: $clang_format failed (exit $status)" >&2
  exit 1
fi
{
  echo "C/C++ files not formatted as .clang-format says (clang-format $major):"
  printf '  %s\n' "${unformatted[@]}"
  echo "The changes clang-format would make (at most 100 lines):"
  for f in "${unformatted[@]}"; do
    diff -u --label "$f" --label "$f (formatted)" "$f" <("$clang_format" --style=file "$f") || true
  done | head -n 100
  echo "Run cpp/tools/format.sh --apply to format them (and the Java sources)."
} >&2
exit 1
