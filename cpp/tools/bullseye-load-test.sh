#!/usr/bin/env bash
# Loads the natives in an old userland: runs jars inside a Debian bullseye root (glibc 2.31, its own OpenJDK 17),
# made by cpp/tools/bullseye-root.sh: an amd64 one, or an arm64 one whose JVM runs under qemu-user (binfmt_misc, as
# bullseye-root.sh --arch arm64 registers it).
#
#   cpp/tools/bullseye-load-test.sh [--demo-jar NAME | --no-demo] ROOT JAR_OR_DIR_OR_CLASSPATH... [-- COMMAND...]
#
# The jars (or folders; a colon-separated class path counts as its entries) are copied into a fresh folder in
# the root, by their base names, which is the working directory of everything run there. Then:
#   1. `java -jar bce4j.jar demo` (the fat jar: --demo-jar names another of the copied jars), which must print
#      the seed example's loss 0.4561881;
#   2. COMMAND, if given, as it is (e.g. java -cp app.jar:bce4j-0.1.0.jar:javacpp-1.5.13.jar Main), which must
#      exit 0.
# Each runs with an empty JavaCPP cache (user.home is set to a fresh folder through JAVA_TOOL_OPTIONS, which the
# JVM acknowledges on standard error), so the libraries come from the jars. On a failure, the demo is run again
# with JavaCPP's debug log, which names the library and symbol version that failed to load.
# Needs root (chroot, mounts /proc, /sys, /dev inside the root, unmounted again on exit).
set -euo pipefail

die() { echo "bullseye-load-test: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -e/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2; }

demo_jar=bce4j.jar
run_demo=1
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --demo-jar) demo_jar=${2:?}; shift 2 ;;
    --no-demo) run_demo=0; shift ;;
    --help) usage ;;
    --) break ;;
    *) echo "bullseye-load-test: unknown option $1" >&2; usage ;;
  esac
done
[[ $# -ge 1 ]] || usage
root=$1; shift
inputs=()
while [[ $# -gt 0 && $1 != -- ]]; do inputs+=("$1"); shift; done
command=()
if [[ $# -gt 0 ]]; then shift; command=("$@"); fi
[[ ${#inputs[@]} -gt 0 ]] || usage
[[ $run_demo -eq 1 || ${#command[@]} -gt 0 ]] || die "nothing to run: --no-demo and no COMMAND"

[[ $(id -u) -eq 0 ]] || die "needs root (chroot and mounts)"
java_home=$(cd "$root" 2>/dev/null && ls -d usr/lib/jvm/java-17-openjdk-* 2>/dev/null | head -1 || true)
[[ -f $root/.bce4j-bullseye-root && -n $java_home && -x $root/$java_home/bin/java ]] ||
  die "$root is not a complete root: make it with cpp/tools/bullseye-root.sh $root"
java_home=/$java_home
root=$(cd "$root" && pwd)

# A folder of its own in the root's /tmp, and a HOME in it (JavaCPP's cache is ~/.javacpp/cache).
work=$(mktemp -d "$root/tmp/bce4j-load-test.XXXXXX")
inside=${work#"$root"}
source "$(dirname "$0")/chroot-mounts.sh"
cleanup() {
  chroot_unmount_all
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for input in "${inputs[@]}"; do
  IFS=: read -r -a entries <<<"$input"
  for entry in "${entries[@]}"; do
    [[ -n $entry ]] || continue
    [[ -e $entry ]] || die "$entry: no such file or directory"
    [[ ! -e $work/$(basename "$entry") ]] || die "two inputs named $(basename "$entry")"
    cp -a "$entry" "$work/"
  done
done
if [[ $run_demo -eq 1 && ! -f $work/$demo_jar ]]; then
  die "no $demo_jar among the inputs (the fat jar for the demo; --demo-jar NAME or --no-demo)"
fi

chroot_mount "$root" proc proc proc
chroot_mount "$root" sysfs sysfs sys
chroot_mount "$root" bind /dev dev

in_root() {  # runs "$@" in the root, in the work folder, with a clean environment
  mkdir -p "$work/home"
  chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME="$inside/home" LANG=C.UTF-8 JAVA_HOME="$java_home" \
    JAVA_TOOL_OPTIONS="-Duser.home=$inside/home" \
    /bin/sh -c 'cd "$0" && exec "$@"' "$inside" "$@"
}

echo "bullseye-load-test: in $(cat "$root/.bce4j-bullseye-root")"
echo "bullseye-load-test: $(in_root ldd --version | head -1); $(in_root java -version 2>&1 | grep -v "^Picked up" | head -1)"
status=0
if [[ $run_demo -eq 1 ]]; then
  echo "bullseye-load-test: java -jar $demo_jar demo"
  start=$SECONDS
  set +e
  output=$(in_root java -jar "$demo_jar" demo 2>&1)
  rc=$?
  set -e
  printf '%s\n' "$output" | sed 's/^/  | /'
  if [[ $rc -eq 0 ]] && grep -q '0\.4561881' <<<"$output"; then
    echo "bullseye-load-test: demo OK (prints 0.4561881) in $((SECONDS - start)) s"
    # Which files JavaCPP loaded (and which failed, silently without its debug log), and what `info` says.
    rm -rf "${work:?}/home"
    echo "bullseye-load-test: java -Dorg.bytedeco.javacpp.logger.debug=true -jar $demo_jar info"
    in_root java -Dorg.bytedeco.javacpp.logger.debug=true -jar "$demo_jar" info 2>&1 |
      sed -n -e 's/^Debug: \(Loading \/.*\)/\1/p' -e 's/^Debug: \(Failed to load \/[^:]*: [^:]*: [^:]*: \)/\1/p' \
        -e '/^\(bce4j\|cpu\|threads\|cuda\)/p' | sed "s|$inside/home/.javacpp/cache/||g; s/^/  | /"
  else
    status=1
    echo "bullseye-load-test: demo FAILED (exit $rc); again with JavaCPP's debug log:" >&2
    rm -rf "${work:?}/home"
    in_root java -Dorg.bytedeco.javacpp.logger.debug=true -jar "$demo_jar" demo 2>&1 |
      grep -iE 'error|fail|not found|version|unsatisfied|exception' | head -20 | sed 's/^/  | /' >&2 || true
  fi
fi
if [[ ${#command[@]} -gt 0 ]]; then
  rm -rf "${work:?}/home"
  echo "bullseye-load-test: ${command[*]}"
  start=$SECONDS
  set +e
  in_root "${command[@]}" 2>&1 | sed 's/^/  | /'
  rc=${PIPESTATUS[0]}
  set -e
  if [[ $rc -eq 0 ]]; then
    echo "bullseye-load-test: command OK in $((SECONDS - start)) s"
  else
    status=1
    echo "bullseye-load-test: command FAILED (exit $rc)" >&2
  fi
fi
exit $status
