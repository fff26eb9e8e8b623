#!/usr/bin/env bash
# The one-command device check, for a machine with an NVIDIA GPU, the CUDA toolkit (nvcc, compute-sanitizer), CMake,
# GoogleTest, and Maven with a JDK 17 (issue 17). From the repository root:
#
#   cpp/bench/gpu_check.sh [BUILD_DIR]        (default target/cmake/gpu-check)
#
# Builds the C++ tree for this GPU's architecture (BCE4J_GPU_CHECK_ARCHITECTURES overrides it, e.g. the full
# default list) and the Java natives (mvn install), then, on device 0, in under 10 minutes after the build:
#   1. the CUDA CTest suites (host emulation, availability, CudaLoss on the GPU, bce4j_cuda_device_tests, the kernel
#      resources test); a CUDA test skipped for want of a device fails the check
#   2. the JUnit CudaTest (mvn -pl java surefire:test -Dtest=CudaTest, on what mvn install built), with the same
#      rule on skips
#   3. compute-sanitizer memcheck, racecheck and synccheck on bce4j_cuda_device_tests and on the CudaLoss suite
#      (without the tests of millions of elements, to fit the time), each bounded by BCE4J_GPU_CHECK_SANITIZER_S
#      seconds (default 60)
#   4. every kernel's registers and stack frame at this GPU's architecture; a spill or a stack frame fails
#   5. bce4j_cuda_bandwidth at 16M and 64M elements, then a weighted [16000, 1000] run: kernel-only and whole-call
#      time, the fraction of the theoretical peak and of a device-to-device copy, the host entry point and the CPU on
#      the same data; wrong values fail
# and prints one summary. Exit status: 0 all passed; 1 a check failed (the summary names it); 2 the machine cannot
# run the check (no GPU, or a tool missing: the message says which). Logs go to BUILD_DIR/gpu-check-logs/.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

build=${1:-target/cmake/gpu-check}
logs=$build/gpu-check-logs
sanitizer_limit=${BCE4J_GPU_CHECK_SANITIZER_S:-60}
budget_s=600

cannot_run() {
  echo "gpu_check: cannot run here: $*" >&2
  exit 2
}

# --- What the machine must have --------------------------------------------------------------------------------------
command -v nvidia-smi >/dev/null || cannot_run "no NVIDIA driver (nvidia-smi not found), so no GPU to check"
gpus=$(nvidia-smi --query-gpu=name,compute_cap --format=csv,noheader 2>&1) ||
  cannot_run "nvidia-smi finds no GPU: $gpus"
[ -n "$gpus" ] || cannot_run "nvidia-smi lists no GPU"
gpu_count=$(printf '%s\n' "$gpus" | wc -l)
first_gpu=$(printf '%s\n' "$gpus" | head -n 1)
capability=${first_gpu##*, }
arch=${capability/./}
[[ $arch =~ ^[0-9]+$ ]] || cannot_run "could not read the compute capability of device 0 from nvidia-smi: $first_gpu"
cuda_bin=${CUDA_HOME:-/usr/local/cuda}/bin
PATH=$PATH:$cuda_bin
for tool in nvcc compute-sanitizer cmake ctest mvn java; do
  command -v "$tool" >/dev/null || cannot_run "$tool not found (PATH and $cuda_bin searched)"
done
[ "$gpu_count" -eq 1 ] || echo "gpu_check: $gpu_count GPUs; the check runs on device 0 ($first_gpu)"

# --- Build (not counted in the 10 minutes) ---------------------------------------------------------------------------
mkdir -p "$logs" || exit 2
architectures=${BCE4J_GPU_CHECK_ARCHITECTURES:-$arch-real}
echo "gpu_check: building $build for $architectures and the Java natives (logs: $logs)"
if ! { cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBCE4J_TESTS=ON \
  -DCMAKE_CUDA_ARCHITECTURES="$architectures" && cmake --build "$build" --parallel "$(nproc)"; } \
  >"$logs/build.log" 2>&1; then
  echo "gpu_check: the C++ build failed; see $logs/build.log" >&2
  exit 1
fi
[ -x "$build/bce4j_cuda_device_tests" ] || {
  echo "gpu_check: $build has no bce4j_cuda_device_tests: CMake built without libbce4j_cuda" >&2
  exit 1
}
if ! mvn -B -q install -DskipTests >"$logs/mvn-install.log" 2>&1; then
  echo "gpu_check: mvn install failed; see $logs/mvn-install.log" >&2
  exit 1
fi

# --- The checks --------------------------------------------------------------------------------------------------------
export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}
start=$SECONDS
results=()
failed=0
record() { # name status detail
  results+=("$(printf '%-28s %-4s %s' "$1" "$2" "$3")")
  [ "$2" = PASS ] || failed=1
}

# 1. CTest. Skips allowed on a GPU: the tests of an unavailable CUDA, of a second device where there is one, and the
# queued calls' emulation-only tests outside the emulation run (cuda_queued_test.cpp).
if ctest --test-dir "$build" -R 'Cuda|cuda' -j 4 --output-on-failure >"$logs/ctest.log" 2>&1; then
  unexpected=$(grep -E 'Skipped' "$logs/ctest.log" | grep -E '^ *[0-9]+/[0-9]+ Test' |
    grep -vE 'UnavailableCudaCallsSayWhy|MemoryOfAnotherDeviceIsRefused|Test +#[0-9]+: (scalar_isa\.)?CudaQueued(Half)?\.' ||
    true)
  if [ -n "$unexpected" ]; then
    record "ctest CUDA suites" FAIL "skipped on a GPU: $(printf '%s\n' "$unexpected" | wc -l) test(s), see ctest.log"
  else
    record "ctest CUDA suites" PASS "$(grep -E 'tests passed' "$logs/ctest.log")"
  fi
else
  record "ctest CUDA suites" FAIL "$(grep -E 'tests failed' "$logs/ctest.log"), see ctest.log"
fi

# 2. JUnit CudaTest: its device tests must have run (they skip with "no CUDA device" otherwise).
report=java/target/surefire-reports/TEST-org.bce4j.CudaTest.xml
rm -f "$report"
# surefire:test alone: `mvn verify` would run the whole CTest suite first, which step 1 covers for CUDA.
if mvn -B -pl java surefire:test -Dtest=CudaTest -Dsurefire.failIfNoSpecifiedTests=false >"$logs/junit.log" 2>&1 &&
  [ -f "$report" ]; then
  if grep -q 'no CUDA device' "$report"; then
    record "JUnit CudaTest" FAIL "its device tests were skipped: no CUDA device, see junit.log"
  else
    record "JUnit CudaTest" PASS "$(grep -oE 'tests="[0-9]+"|skipped="[0-9]+"' "$report" | head -n 2 | paste -sd ' ')"
  fi
else
  record "JUnit CudaTest" FAIL "see junit.log"
fi

# 3. compute-sanitizer. The 16M-element and pool tests (minutes under memcheck), the fault test (a deliberate fault)
# and the capture test (it provokes the runtime's error 906 on the legacy stream, which memcheck reports as an API
# error) are left out; the others hold every launch, copy and stream path.
device_filter='CudaDevice.*-CudaDevice.SixteenMillion*:CudaDevice.TheDefaultMemoryPool*:CudaDevice.AStreamUnderCapture*'
loss_filter='CudaLoss*-*ShapesFromEmptyToSeveralGridsOfElements*'
for tool in memcheck racecheck synccheck; do
  for program in device_tests loss_tests; do
    if [ $program = device_tests ]; then
      command=("$build/bce4j_cuda_device_tests" "--gtest_filter=$device_filter")
    else
      command=("$build/bce4j_tests" "--gtest_filter=$loss_filter")
    fi
    log=$logs/sanitizer-$tool-$program.log
    timeout "$sanitizer_limit" compute-sanitizer --tool "$tool" --error-exitcode 99 "${command[@]}" >"$log" 2>&1
    status=$?
    summary=$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$log" | tail -n 1)
    case $status in
      0) record "sanitizer $tool $program" PASS "${summary:-no summary line}" ;;
      124) record "sanitizer $tool $program" FAIL "over ${sanitizer_limit} s: shrink the filter ($log)" ;;
      99) record "sanitizer $tool $program" FAIL "${summary:-errors}, see $log" ;;
      *) record "sanitizer $tool $program" FAIL "exit $status (a test failed or crashed), see $log" ;;
    esac
  done
done

# 4. Registers and stack frames at this GPU's architecture.
if bash cpp/tools/cuda-kernel-resources.sh "$(command -v nvcc)" "$arch" >"$logs/resources.log" 2>&1; then
  record "kernel resources sm_$arch" PASS "$(awk '/registers/ {printf "%s%s:%s regs", sep, $NF, $3; sep=", "}' \
    "$logs/resources.log"), no spill, no stack"
else
  record "kernel resources sm_$arch" FAIL "a spill or a stack frame, see resources.log"
fi

# 5. Bandwidth, weighted [N, C], the host entry point and the CPU side by side, values checked.
bandwidth_lines=()
for run in "16777216 67108864" "--weighted 1000 16000000"; do
  # shellcheck disable=SC2086 # the arguments are words
  if "$build/bce4j_cuda_bandwidth" $run >"$logs/bandwidth.log" 2>&1; then
    record "bandwidth $run" PASS "values match the CPU"
  else
    record "bandwidth $run" FAIL "$(tail -n 1 "$logs/bandwidth.log")"
  fi
  while IFS= read -r line; do bandwidth_lines+=("$line"); done < <(grep '^bce4j cuda' "$logs/bandwidth.log")
  cat "$logs/bandwidth.log" >>"$logs/bandwidth-all.log"
done

elapsed=$((SECONDS - start))
[ "$elapsed" -le "$budget_s" ] || record "time" FAIL "${elapsed} s after the build; the budget is ${budget_s} s"

echo
echo "=== gpu_check summary: $first_gpu (compute capability $capability), $(date -u '+%Y-%m-%d %H:%M UTC')"
printf '%s\n' "${results[@]}"
echo "--- figures (field meanings: cpp/bench/cuda_bandwidth.cpp)"
printf '%s\n' "${bandwidth_lines[@]}"
echo "--- ${elapsed} s after the build; logs in $logs"
if [ "$failed" -ne 0 ]; then
  echo "gpu_check: FAILED"
  exit 1
fi
echo "gpu_check: all passed"
