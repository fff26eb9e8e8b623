#!/usr/bin/env bash
# The bundled OpenMP runtime beside another libgomp.so.1 in one process (cpp/tools/gomp-coexistence-test.c): both
# load orders and the other one opened RTLD_LOCAL (as the JVM opens libraries), each once with the loader's symbol bindings of libbce4j's OpenMP references (LD_DEBUG=bindings).
#
#   cpp/tools/gomp-coexistence-test.sh BUNDLE_DIR [OTHER_LIBGOMP]
#
# BUNDLE_DIR is cpp/tools/bundle-natives.sh's output; OTHER_LIBGOMP defaults to the compiler's libgomp.so.1.
set -euo pipefail

[[ $# -ge 1 && $# -le 2 ]] || { sed -n '2,/^set -e/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2; }
bundle=$(cd "$1" && pwd)
other=$(realpath "${2:-$(${CC:-gcc} -print-file-name=libgomp.so.1)}")
here=$(cd "$(dirname "$0")" && pwd)
library=
for name in libbce4j.so.1 libbce4j.so; do
  [[ -e $bundle/$name ]] && { library=$bundle/$name; break; }
done
[[ -n $library && -e $bundle/libgomp-bce4j.so.1 ]] ||
  { echo "gomp-coexistence-test: no libbce4j.so[.1] and libgomp-bce4j.so.1 in $bundle" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
${CC:-gcc} -std=c11 -O2 -Wall -Wextra -I "$here/../include" -o "$work/gomp-coexistence-test" \
  "$here/gomp-coexistence-test.c" -ldl -lpthread

status=0
for order in other-first other-local-first bce4j-first; do
  echo "== $order: $library + $other"
  "$work/gomp-coexistence-test" "$library" "$other" "$order" || status=1
  # Where libbce4j's GOMP_parallel and omp_* references went.
  LD_DEBUG=bindings LD_DEBUG_OUTPUT="$work/bindings" "$work/gomp-coexistence-test" "$library" "$other" "$order" \
    >/dev/null 2>&1 || true
  cat "$work"/bindings.* | grep -E "binding file [^ ]*libbce4j[^ ]* .*symbol \`(GOMP_|omp_)" |
    sed -E 's/^ *[0-9]+: *//; s/ \[[0-9]+\]//g; s/binding file //' | sort -u | sed 's/^/  binding: /'
  rm -f "$work"/bindings.*
done
exit $status
