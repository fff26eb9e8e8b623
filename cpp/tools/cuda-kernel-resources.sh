#!/usr/bin/env bash
# Each kernel of libbce4j_cuda with its registers, stack frame, spills and shared memory, as ptxas reports them
# (-Xptxas -v) when compiling cpp/src/cuda/loss_kernels.cu for the architectures named; no GPU needed. Fails (exit 1)
# when a kernel spills registers or has a stack frame: local memory in the fused pass would add DRAM traffic to a
# bandwidth-bound kernel. The build itself fails on spills and local memory (CMakeLists.txt); this prints the figures.
# Also fails when the fused pass (loss_pass) holds a 64-bit integer division in its PTX: the broadcast offsets divide
# by precomputed reciprocals (cpp/src/cuda/fast_divmod.h), since a GPU emulates 64-bit division in some 70
# instructions, once per element per dimension.
#   cpp/tools/cuda-kernel-resources.sh NVCC ARCH...     e.g. cpp/tools/cuda-kernel-resources.sh nvcc 75 90
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 NVCC ARCH..." >&2
  exit 2
fi
nvcc=$1
requested=$1
shift
if ! command -v "$nvcc" >/dev/null; then # a build tree carried to another machine: that machine's nvcc
  nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
  echo "cuda-kernel-resources: $requested not found; using $nvcc" >&2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for arch in "$@"; do
  "$nvcc" -std=c++17 --expt-relaxed-constexpr -I"$root/cpp/include" -I"$root/cpp/src" -arch="sm_$arch" \
    -Xptxas=-v -c "$root/cpp/src/cuda/loss_kernels.cu" -o "$work/loss_kernels.o" 2>"$work/ptxas.txt"
  # ptxas prints per kernel: "Compiling entry function 'NAME' for 'sm_XY'", "Function properties for NAME",
  # "N bytes stack frame, N bytes spill stores, N bytes spill loads", "Used N registers, ... N bytes smem".
  if ! awk -v arch="sm_$arch" '
    /Compiling entry function/ { match($0, /function .[^'"'"']*/); name = substr($0, RSTART + 10, RLENGTH - 10) }
    /bytes stack frame/ { stack = $1; stores = $5; loads = $9 }
    /Used [0-9]+ registers/ {
      registers = $0; sub(/.*Used /, "", registers); sub(/ registers.*/, "", registers)
      smem = "0"; if (match($0, /[0-9]+ bytes smem/)) smem = substr($0, RSTART, RLENGTH - 11)
      kernel = name
      printf "%-7s registers %3d  stack %4d B  spill stores %4d B  spill loads %4d B  smem %5d B  %s\n",
        arch, registers, stack, stores, loads, smem, kernel
      kernels++
      if (stack + 0 > 0 || stores + 0 > 0 || loads + 0 > 0) bad++
    }
    END {
      if (kernels == 0) { print arch ": ptxas reported no kernel" > "/dev/stderr"; exit 1 }
      if (bad > 0) { print arch ": " bad " kernel(s) with a stack frame or spills" > "/dev/stderr"; exit 1 }
    }' "$work/ptxas.txt" | c++filt -p | sed 's/bce4j::cuda::(anonymous namespace):://'; then
    status=1
  fi
done
# The PTX of the first architecture named: 64-bit div/rem inside loss_pass's entries.
"$nvcc" -std=c++17 --expt-relaxed-constexpr -I"$root/cpp/include" -I"$root/cpp/src" -arch="sm_$1" -ptx \
  "$root/cpp/src/cuda/loss_kernels.cu" -o "$work/loss_kernels.ptx"
divisions=$(awk '/\.entry/ { in_pass = ($0 ~ /loss_pass/) } in_pass && /(div|rem)\.[su]64/' \
  "$work/loss_kernels.ptx" | wc -l)
if [ "$divisions" -ne 0 ]; then
  echo "sm_$1: loss_pass has $divisions 64-bit integer division(s) in its PTX" >&2
  status=1
else
  echo "sm_$1   loss_pass: no 64-bit integer division in its PTX"
fi
exit "$status"
