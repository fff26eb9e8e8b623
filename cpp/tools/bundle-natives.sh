#!/usr/bin/env bash
# INTERIM (replaced by the glibc-portable branch): stage the built libraries as the natives jars carry them.
# usage: bundle-natives.sh CMAKE_LIB_DIR NATIVES_DIR GPU_DIR
set -euo pipefail
lib_dir=$1 natives_dir=$2 gpu_dir=$3
mkdir -p "$natives_dir"
rm -rf "$gpu_dir"
cp -L "$lib_dir/libbce4j.so" "$natives_dir/"
cp -L "$(g++ -print-file-name=libgomp.so.1)" "$natives_dir/"
if [ -f "$lib_dir/libbce4j_cuda.so" ]; then
  mkdir -p "$gpu_dir"
  cp -L "$lib_dir/libbce4j_cuda.so" "$gpu_dir/"
fi
