#!/usr/bin/env bash
# Runs the Java side of the linux-arm64 natives on an arm64 JVM: OpenJDK 17 of an arm64 Debian bullseye root (made by
# cpp/tools/bullseye-root.sh --arch arm64 ROOT), which runs under qemu-user on an x86-64 machine. In the root:
#   1. the Maven consumer (examples/maven-consumer, which depends on bce4j-platform: the natives of every platform
#      are on its class path, and JavaCPP must pick linux-arm64's) must print the seed mean 0.4561881;
#   2. `info` of the command line (which kernels the emulated CPU gets);
#   3. the JUnit classes GoldenConformanceTest (libtorch's golden values, through the API and the compute command)
#      and BCEWithLogitsLossTest, through the JUnit console launcher, on the kernels chosen for the emulated CPU and
#      then with BCE4J_ISA=scalar, as the x86-64 build runs them.
#
#   cpp/tools/arm64-jvm-test.sh ROOT
#
# Needs, in the local Maven repository, both platforms' artifacts: `mvn install` (x86-64; it also leaves the command
# line's classes and test classes in cli/target) and the linux-arm64 release natives, linked against ROOT:
# `mvn -DskipTests -Djavacpp.platform=linux-arm64 -Dbce4j.link.sysroot=ROOT -Dbce4j.glibc.baseline=2.17 install` (a
# plain build bundles the cross toolchain's OpenMP runtime, which needs glibc 2.34; the root has 2.31). The
# class paths are resolved on this machine (the command line's test class path with -Djavacpp.platform=linux-arm64,
# the JUnit console launcher from the repository); nothing is compiled in the root. Each step prints its time:
# emulated times, which say nothing about speed on Arm hardware. Needs root (chroot; cpp/tools/bullseye-load-test.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

die() { echo "arm64-jvm-test: $*" >&2; exit 1; }
[[ $# -eq 1 && $1 != -* ]] || { sed -n '2,/^set -e/p' "$0" | sed -n 's/^# \{0,1\}//p' >&2; exit 2; }
root=$1
[[ -f $root/.bce4j-bullseye-root && -d $root/usr/lib/jvm/java-17-openjdk-arm64 ]] ||
  die "$root is not an arm64 root: make it with cpp/tools/bullseye-root.sh --arch arm64 $root"
# The root's programs run through qemu-user-static, which bullseye-root.sh registers with binfmt_misc (a
# registration does not survive a reboot: running bullseye-root.sh again on the complete root renews it).
grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null ||
  die "qemu-aarch64 is not registered with binfmt_misc: run cpp/tools/bullseye-root.sh --arch arm64 $root"
[[ -d cli/target/classes && -d cli/target/test-classes/golden ]] ||
  die "no cli/target/classes or cli/target/test-classes/golden: run mvn -B -DskipTests install first (x86-64)"

stage=target/arm64-jvm-test
rm -rf "$stage"
mkdir -p "$stage"

# The JUnit console launcher of the JUnit the project tests with (JUnit 5.x.y: platform 1.x.y).
junit_version=$(sed -n 's|.*<junit.version>\(.*\)</junit.version>.*|\1|p' pom.xml)
[[ $junit_version == 5.* ]] || die "cannot read a JUnit 5 version from pom.xml (found '$junit_version')"
launcher_version=1.${junit_version#5.}
mvn -B -q dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$launcher_version" \
  -DoutputDirectory="$stage"
launcher=$stage/junit-platform-console-standalone-$launcher_version.jar

# The command line's test class path for linux-arm64 (the API, its test jar, bce4j and JavaCPP natives of
# linux-arm64), without JUnit, which the console launcher brings.
(cd cli && mvn -B -q -Djavacpp.platform=linux-arm64 dependency:build-classpath -Dmdep.includeScope=test \
  -DexcludeGroupIds=org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian \
  -Dmdep.outputFile="$PWD/../$stage/test-classpath.txt")
grep -q 'bce4j-[^:]*-linux-arm64\.jar' "$stage/test-classpath.txt" ||
  die "no linux-arm64 natives jar on the test class path: mvn -B -DskipTests -Djavacpp.platform=linux-arm64 install"
# The consumer, resolved as a user's build resolves it (every platform).
consumer=examples/maven-consumer
(cd "$consumer" && mvn -B -q package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt)
jar cf "$stage/maven-consumer.jar" -C "$consumer/target/classes" .

# Base names, as bullseye-load-test.sh copies the entries into the root.
names() { local IFS=:; local entry out=(); for entry in $1; do out+=("$(basename "$entry")"); done; echo "${out[*]}"; }
consumer_entries="$stage/maven-consumer.jar:$(cat "$consumer/target/classpath.txt")"
test_entries="$launcher:cli/target/classes:cli/target/test-classes:$(cat "$stage/test-classpath.txt")"
test_classpath=$(names "$test_entries")
junit=(java -cp "$test_classpath" org.junit.platform.console.ConsoleLauncher execute --disable-banner
  --details=summary --fail-if-no-tests --select-class org.bce4j.cli.GoldenConformanceTest
  --select-class org.bce4j.BCEWithLogitsLossTest)

load_test() { bash cpp/tools/bullseye-load-test.sh --no-demo "$root" "$@"; }
seed_value="java -cp '$(names "$consumer_entries")' org.bce4j.example.SeedValue"
load_test "$consumer_entries" -- sh -c "$seed_value | tee out.txt && grep -q 'seed mean 0.4561881' out.txt"
load_test "$test_entries" -- java -cp "$test_classpath" org.bce4j.cli.Main info
load_test "$test_entries" -- "${junit[@]}"
load_test "$test_entries" -- env BCE4J_ISA=scalar "${junit[@]}"
