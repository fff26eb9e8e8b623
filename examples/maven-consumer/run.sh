#!/usr/bin/env bash
# Builds this consumer against the bce4j artifacts in the local Maven repository (run `mvn install` at the
# repository root first) and runs it on the class path and on the module path, with each JDK given (default: the
# java on PATH). Each run must print the seed mean and nothing on stderr (on JDK 24+ that proves the native-access
# flags below are enough). With --gpu it adds the CUDA jar, and the CUDA line must report the driver or device
# state: the library itself must be found although it comes from a jar of its own.
#   examples/maven-consumer/run.sh [--gpu] [JAVA_HOME ...]
set -euo pipefail
cd "$(dirname "$0")"
profile=()
gpu=false
if [ "${1:-}" = "--gpu" ]; then profile=(-Pgpu); gpu=true; shift; fi
homes=("$@")
[ ${#homes[@]} -gt 0 ] || homes=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")

mvn -B -q "${profile[@]}" package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
deps=$(cat target/classpath.txt)
# A private JavaCPP cache, so that nothing extracted by an earlier run or build is reused.
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT

check() { # what, stdout file, stderr file
  local what=$1 out=$2 err=$3
  grep -q 'seed mean 0.4561881' "$out" || { echo "FAIL $what: no seed mean" >&2; cat "$out" "$err" >&2; exit 1; }
  if [ -s "$err" ]; then echo "FAIL $what: wrote to stderr" >&2; cat "$err" >&2; exit 1; fi
  if $gpu && grep -q 'could not be loaded' "$out"; then
    echo "FAIL $what: the CUDA library was not found" >&2; cat "$out" >&2; exit 1
  fi
  echo "PASS $what: $(tr '\n' ' ' <"$out")"
}

for home in "${homes[@]}"; do
  java="$home/bin/java"
  version=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  "$java" -Dorg.bytedeco.javacpp.cachedir="$cache/cp" --enable-native-access=ALL-UNNAMED \
    -cp "target/classes:$deps" org.bce4j.example.SeedValue >target/out.txt 2>target/err.txt
  check "class path, Java $version" target/out.txt target/err.txt
  "$java" -Dorg.bytedeco.javacpp.cachedir="$cache/mp" --enable-native-access=org.bce4j,org.bytedeco.javacpp \
    --add-modules ALL-MODULE-PATH -p "target/classes:$deps" -m org.bce4j.example/org.bce4j.example.SeedValue >target/out.txt 2>target/err.txt
  check "module path, Java $version" target/out.txt target/err.txt
  # Without --add-modules the natives' module is not in the graph: a clear error that says so, not a crash.
  if "$java" -Dorg.bytedeco.javacpp.cachedir="$cache/mp" --enable-native-access=org.bce4j,org.bytedeco.javacpp \
      -p "target/classes:$deps" -m org.bce4j.example/org.bce4j.example.SeedValue >target/out.txt 2>target/err.txt; then
    echo "FAIL module path without --add-modules, Java $version: ran" >&2; exit 1
  fi
  grep -q 'UnsatisfiedLinkError: bce4j could not load its native libraries.*--add-modules ALL-MODULE-PATH' \
    target/err.txt || { echo "FAIL module path without --add-modules, Java $version" >&2; cat target/err.txt >&2; exit 1; }
  echo "PASS module path without --add-modules, Java $version: the error names --add-modules ALL-MODULE-PATH"
done
