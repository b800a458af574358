#!/usr/bin/env bash
# build.sh OUT_DIR [EXTRA_DIR] — builds the CPU emulator of the GPU stack (tests only) into OUT_DIR:
#   libcuda.so.1       fake CUDA driver (driver.cpp) + kernel emulator (emu_core.cpp, shim common.cuh) + every
#                      native/kernels/*.cu compiled for the CPU (one generated bind_<file>.cpp each)
#   libcublas.so.13    fake classic cuBLAS (cublas.cpp)
#   libcublasLt.so.13  fake cuBLASLt (cublaslt.cpp)
# NVRTC is the real one (the runtime compiles every kernel as usual; the fake driver ignores the image and runs the
# kernel of the same name from the CPU build). Needs g++ (C++17). Prints nothing but errors; exit 0 on success.
# EMU_KERNELS_ONLY=1 builds only OUT_DIR/src/emu_core.o and OUT_DIR/src/bind_*.o (see selftest.cpp).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kernels="$here/../../native/kernels"
out="${1:?usage: build.sh OUT_DIR [EXTRA_DIR]}"
extra="${2:-}"   # more kernels (*.cu, with their *.cuh headers) built like native/kernels: the tests' own kernels
mkdir -p "$out/src"
CXX="${CXX:-g++}"
CXXFLAGS=(-std=c++17 -O2 -g0 -fPIC -fno-strict-aliasing -fno-fast-math -ffp-contract=off -w -I"$out/src" -I"$here")

cp "$here/common.cuh" "$out/src/common.cuh"   # the shim stands in for native/kernels/common.cuh
for h in "$kernels"/*.cuh; do   # the kernels' other headers, as they are (no __shared__ in them: see below)
    [[ "$(basename "$h")" == common.cuh ]] || cp "$h" "$out/src/"
done
# Shared memory (see common.cuh): an `extern __shared__ T x[];` becomes the block's dynamic shared memory
# (emu_dynamic_smem); a `__shared__ DECL;` line inside a kernel becomes `static DECL;` plus emu_shared_static() of
# each declared name, and the kernel's static shared size is sizeof a struct of its DECLs, given with the first
# argument of its __launch_bounds__ to EMU_KERNEL_INFO in bind_<file>.cpp (emu_task.h). Any other use of __shared__
# fails the build.
# shellcheck disable=SC2016
smem_awk='
function fail(msg) { printf "build.sh: %s:%d: %s\n", file, NR, msg > "/dev/stderr"; bad = 1; exit 1 }
function names(d,   i, c, id, rest, out, depth) {  # identifiers declared by d (at bracket/paren depth 0)
    out = ""; depth = 0
    for (i = 1; i <= length(d); i++) {
        c = substr(d, i, 1)
        if (c == "(" || c == "[") { depth++; continue }
        if (c == ")" || c == "]") { depth--; continue }
        if (depth > 0 || c !~ /[A-Za-z_]/) continue
        id = c
        while (i < length(d) && substr(d, i + 1, 1) ~ /[A-Za-z0-9_]/) { i++; id = id substr(d, i, 1) }
        rest = substr(d, i + 1); sub(/^[ \t]*/, "", rest)
        if (rest == "" || rest ~ /^[[,]/) out = out " " id
    }
    return out
}
BEGIN { nk = split(kernels, K, " "); cur = ""; depth = 0 }
{
    code = $0; sub(/\/\/.*/, "", code)
    if (match(code, /__launch_bounds__[ \t]*[(][^,)]*/)) {  # its first argument, for the next kernel
        lb = substr(code, RSTART, RLENGTH); sub(/^[^(]*[(]/, "", lb)
    }
    for (i = 1; i <= nk; i++)
        if (code ~ ("(^|[^A-Za-z0-9_])" K[i] "[ \t]*[(]")) { cur = K[i]; opened = 0; bounds[cur] = lb; lb = "" }
    if (code ~ /(^|[^A-Za-z0-9_])__shared__([^A-Za-z0-9_]|$)/) {
        decl = code; sub(/^[ \t]*__shared__[ \t]+/, "", decl)
        if (decl ~ /__shared__/ || decl !~ /;[ \t]*$/) fail("a __shared__ declaration must be a line of its own")
        if (cur == "" || !opened || depth == 0) fail("__shared__ outside a kernel body is not emulated")
        sub(/;[ \t]*$/, "", decl)
        n = split(names(decl), N, " ")
        if (n == 0) fail("no name found in the __shared__ declaration")
        line = $0; sub(/__shared__[ \t]+/, "static ", line)
        reg = ""
        for (j = 1; j <= n; j++) reg = reg " emu_shared_static(&" N[j] ", sizeof " N[j] ");"
        semi = index(line, ";")
        print substr(line, 1, semi) reg substr(line, semi + 1)
        smem[cur] = smem[cur] " " decl ";"
    } else print
    nopen = gsub(/\{/, "{", code); nclose = gsub(/\}/, "}", code)
    depth += nopen - nclose
    if (cur != "" && nopen > 0) opened = 1
    if (cur != "" && opened && depth == 0) cur = ""
}
END {
    if (bad) exit 1
    printf "#include \"common.cuh\"\n#include \"%s.cu\"\n#include \"emu_task.h\"\n", file > bind
    for (i = 1; i <= nk; i++) {
        k = K[i]; size = "0"; maxt = bounds[k] == "" ? "1024" : bounds[k]
        if (k in smem) { printf "struct emu_smem_%s {%s };\n", k, smem[k] > bind; size = "sizeof(emu_smem_" k ")" }
        printf "EMU_KERNEL_INFO(%s, %s, %s)\n", k, size, maxt > bind
    }
}'
pids=()
objs=()
sources=("$kernels"/*.cu)
if [[ -n "$extra" ]]; then
    for h in "$extra"/*.cuh; do [[ -e "$h" ]] && cp "$h" "$out/src/"; done
    for cu in "$extra"/*.cu; do [[ -e "$cu" ]] && sources+=("$cu"); done
fi
for cu in "${sources[@]}"; do
    name="$(basename "$cu" .cu)"
    names="$(tr '\n' ' ' < "$cu" \
        | grep -oE 'extern "C" __global__ void[[:space:]]+(__launch_bounds__\([^)]*\)[[:space:]]*)?[A-Za-z_][A-Za-z0-9_]*\(' \
        | sed -E 's/.*[^A-Za-z0-9_]([A-Za-z_][A-Za-z0-9_]*)\($/\1/' | tr '\n' ' ')"
    sed -E 's/extern[[:space:]]+__shared__[[:space:]]+(__align__\([0-9]+\)[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]+([A-Za-z_][A-Za-z0-9_]*)\[\];/\2* \3 = (\2*)emu_dynamic_smem();/' \
        "$cu" | awk -v file="$name" -v kernels="$names" -v bind="$out/src/bind_$name.cpp" "$smem_awk" \
        > "$out/src/$name.cu"
    "$CXX" "${CXXFLAGS[@]}" -c "$out/src/bind_$name.cpp" -o "$out/src/bind_$name.o" & pids+=($!)
    objs+=("$out/src/bind_$name.o")
done
"$CXX" "${CXXFLAGS[@]}" -c "$here/emu_core.cpp" -o "$out/src/emu_core.o" & pids+=($!)
kernels_only="${EMU_KERNELS_ONLY:-0}"   # 1: stop after the kernel objects and emu_core.o (for selftest.cpp)
[[ "$kernels_only" == 1 ]] || { "$CXX" "${CXXFLAGS[@]}" -c "$here/driver.cpp" -o "$out/src/driver.o" & pids+=($!); }
for p in "${pids[@]}"; do wait "$p"; done
[[ "$kernels_only" != 1 ]] || exit 0
"$CXX" -shared -o "$out/libcuda.so.1" -Wl,-soname,libcuda.so.1 "$out/src/driver.o" "$out/src/emu_core.o" "${objs[@]}"
for lib in cublas:libcublas.so.13 cublaslt:libcublasLt.so.13; do
    src="${lib%%:*}" so="${lib#*:}"
    "$CXX" "${CXXFLAGS[@]}" -shared -o "$out/$so" -Wl,-soname,"$so" "$here/$src.cpp" \
        "$out/libcuda.so.1" -Wl,-rpath,'$ORIGIN'
done
