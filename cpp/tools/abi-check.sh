#!/usr/bin/env bash
# Checks the ABI of a built libbce4j against the committed baseline cpp/abi/libbce4j.so.<ABI major>.abi, with
# libabigail (Debian: apt-get install abigail-tools).
#
#   cpp/tools/abi-check.sh LIB            compare LIB (e.g. build/libbce4j.so.1) with the baseline
#   cpp/tools/abi-check.sh --update LIB   rewrite the baseline from LIB, after a compatible change or a new ABI
#                                         major; it refuses an incompatible change at the same major
#
# LIB must keep its debug info (CMakeLists.txt compiles libbce4j's own sources with -g): abidw reads the public
# types' layouts from it. Only the C API counts: the bce4j_* functions of cpp/include/bce4j and the
# types they reach (cpp/abi/libbce4j.abignore leaves out the C++ symbols the library happens to export).
#
# Both sides go through abidw with the same options, and abidiff compares them:
# - no change: pass;
# - compatible: functions added, enumerators appended, fields appended to bce4j_options (the struct is
#   appendable: callers pass struct_size): pass, with the report and a reminder to refresh the baseline (--update);
# - anything else (a function removed or its signature changed, a field of bce4j_options removed, moved or
#   retyped, an enumerator's value changed): fail, unless LIB's SONAME has another ABI major than the baseline's
#   (BCE4J_ABI_MAJOR in CMakeLists.txt was bumped), which then passes and asks for --update.
# Appended fields are told apart by comparing once more with the fields past the baseline's last one cut off the
# new bce4j_options: whatever abidiff still finds is not compatible. (libabigail's own suppression for this,
# has_data_member_inserted_at = end, also hides moved and retyped fields in libabigail 2.2.) abidiff runs without
# --headers-dir: with it, a parameter changed from int32_t to int64_t (typedefs of a system header) goes unreported.
# Not covered: the values of enums that no function signature uses (bce4j_reduction, bce4j_pos_weight_mode,
# bce4j_cuda_state: int32_t in the ABI) and #define constants.
#
# Exit status: 0 pass, 1 incompatible change, 2 usage or tool error.
set -euo pipefail

usage() {
  echo "usage: $0 [--update] LIB" >&2
  exit 2
}
update=no
if [ "${1:-}" = --update ]; then
  update=yes
  shift
fi
[ $# -eq 1 ] || usage
lib=$1
[ -f "$lib" ] || { echo "abi-check: no such file: $lib" >&2; exit 2; }

root=$(cd "$(dirname "$0")/../.." && pwd)
headers=$root/cpp/include/bce4j
abi_dir=$root/cpp/abi
scope=$abi_dir/libbce4j.abignore
update_command="cpp/tools/abi-check.sh --update $lib"

for tool in abidw abidiff readelf; do
  command -v $tool >/dev/null ||
    { echo "abi-check: $tool not found (apt-get install abigail-tools binutils)" >&2; exit 2; }
done
readelf -S "$lib" | grep -q '\.debug_info' ||
  { echo "abi-check: $lib has no debug info (stripped?); abidw needs it to see the types" >&2; exit 2; }
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ -n "$soname" ] || { echo "abi-check: $lib has no SONAME" >&2; exit 2; }

shopt -s nullglob
baselines=("$abi_dir"/libbce4j.so.*.abi)
shopt -u nullglob
[ ${#baselines[@]} -le 1 ] || { echo "abi-check: more than one baseline in $abi_dir: ${baselines[*]}" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bce4j-abi-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# LIB's ABI as the baseline holds it: the public interface only, and without source locations, paths or DT_NEEDED,
# with hashed type ids, so that it changes only with the ABI (not with line numbers, the checkout's path or the
# link options).
abidw --headers-dir "$headers" --drop-private-types --exported-interfaces-only --suppressions "$scope" \
  --no-show-locs --no-corpus-path --no-comp-dir-path --no-elf-needed --type-id-style hash \
  --out-file "$tmp/new.abi" "$lib"

write_baseline() {
  local out=$abi_dir/$soname.abi old
  cp "$tmp/new.abi" "$out"
  for old in "${baselines[@]}"; do
    [ "$old" -ef "$out" ] || rm -f "$old"
  done
  echo "abi-check: wrote ${out#"$root"/} from $lib; review it with git diff and commit it"
}

if [ ${#baselines[@]} -eq 0 ]; then
  [ $update = yes ] || { echo "abi-check: no baseline in $abi_dir; create one with $update_command" >&2; exit 2; }
  write_baseline
  exit 0
fi
baseline=${baselines[0]}
baseline_soname=$(sed -n "s/^<abi-corpus [^>]*soname='\([^']*\)'.*/\1/p" "$baseline")

# bce4j_options in an ABI file. `measure FILE` prints its size and the offset of its last field (in bits);
# `cut FILE SIZE LAST` prints FILE with the fields past offset LAST left out of bce4j_options, and SIZE as its size.
options_struct() {
  awk -v mode="$1" -v size="${3:-}" -v last="${4:-}" '
    /<class-decl name=.bce4j_options. / && !/\/>$/ {
      on = 1
      match($0, /size-in-bits=.[0-9]+/)
      own_size = substr($0, RSTART + 14, RLENGTH - 14)
      if (mode == "cut") sub(/size-in-bits=.[0-9]+./, "size-in-bits=\047" size "\047")
    }
    on && /<\/class-decl>/ { on = 0 }
    on && /<data-member / {
      match($0, /layout-offset-in-bits=.[0-9]+/)
      offset = substr($0, RSTART + 23, RLENGTH - 23) + 0
      if (offset > last_offset) last_offset = offset
      if (mode == "cut" && offset > last + 0) cutting = 1
    }
    cutting { if (/<\/data-member>/) cutting = 0; next }
    mode == "cut" { print }
    END { if (mode == "measure" && own_size != "") print own_size, last_offset + 0 }' "$2"
}
# The new ABI with bce4j_options cut back to the baseline's fields: what abidiff then finds is not an appended field.
read -r struct_size last_field < <(options_struct measure "$baseline") || true
if [ -n "${struct_size:-}" ]; then
  options_struct cut "$tmp/new.abi" "$struct_size" "$last_field" >"$tmp/cut.abi"
else
  cp "$tmp/new.abi" "$tmp/cut.abi"
fi

# abidiff's exit status is a bit set: 1 error, 2 usage error, 4 ABI change, 8 incompatible ABI change.
set +e
# The report: every change, harmless ones (such as appended enumerators) included.
report=$(abidiff --suppressions "$scope" --harmless "$baseline" "$tmp/new.abi" 2>&1)
report_status=$?
# The verdict: what is left without the added functions and the appended fields.
abidiff --suppressions "$scope" --no-added-syms "$baseline" "$tmp/cut.abi" >"$tmp/verdict.txt" 2>&1
verdict_status=$?
set -e
if [ $((report_status & 3)) -ne 0 ] || [ $((verdict_status & 3)) -ne 0 ]; then
  echo "$report"
  cat "$tmp/verdict.txt"
  echo "abi-check: abidiff failed (exit status $report_status, $verdict_status)" >&2
  exit 2
fi

against="${baseline#"$root"/} ($baseline_soname)"
if [ $report_status -eq 0 ]; then
  result="PASS: no ABI change against $against"
  [ $update = yes ] && result="$result; the baseline stays as it is"
  echo "abi-check: $result"
  exit 0
fi
echo "$report"
if [ $verdict_status -eq 0 ]; then
  if [ $update = yes ]; then
    write_baseline
  else
    echo "abi-check: PASS: compatible ABI change against $against (above); refresh the baseline with: $update_command"
  fi
elif [ "$soname" != "$baseline_soname" ]; then
  if [ $update = yes ]; then
    write_baseline
  else
    echo "abi-check: PASS: incompatible ABI change (above) with a new ABI major, $baseline_soname -> $soname;" \
      "refresh the baseline with: $update_command"
  fi
elif [ $update = yes ]; then
  echo "abi-check: FAIL: incompatible ABI change against $against (above), at the same ABI major: the baseline" \
    "is not updated. Restore compatibility, or bump BCE4J_ABI_MAJOR in CMakeLists.txt (the SONAME) first."
  exit 1
else
  echo "abi-check: FAIL: incompatible ABI change against $against (above). Restore compatibility, or bump" \
    "BCE4J_ABI_MAJOR in CMakeLists.txt (the SONAME) and then refresh the baseline with: $update_command"
  exit 1
fi
