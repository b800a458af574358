#!/usr/bin/env bash
# gpu-check.sh — check the CUDA backend on any Linux machine with an NVIDIA GPU, without .NET there.
#
#   scripts/gpu-check.sh build
#       (a machine with the .NET SDK) publishes the test executables (Hrm.Runtime.Tests, Hrm.Train.Tests), hrm-bench
#       and hrm self-contained for linux-x64 into gpu-check/publish/<name>, hard-links the files the four share (the
#       .NET runtime), and packs gpu-check/bundle.tar.xz (must stay under 60 MB).
#   scripts/gpu-check.sh run OUT_DIR
#       (the GPU machine: NVIDIA driver, libnvrtc and libcublas from CUDA 11.8+) unpacks the bundle, prints
#       nvidia-smi, runs the GPU test classes (namespace Hrm.Runtime.Tests.Cuda, class Hrm.Train.Tests.Cli.CudaCliTests),
#       hrm info, CPU-vs-CUDA training parity runs (fp32 and bf16 GEMMs; and at head size 64, the bf16 attention,
#       then with 2x2 cycles with and without --no-bf16-stream) on generated Sudoku data, the GPU
#       benchmark table, a training step's time op by op (batch 768, bf16 GEMMs) and a batch-1 segment forward's, and
#       an epoch of the Maze config at batch 768 (800 mazes: 1 step; micro-batches chosen by free memory);
#       logs go to OUT_DIR, the summary, the benchmark table and the profiles' top ops are printed last. At most
#       7.5 minutes of stages by default (HRM_GPU_CHECK_BUDGET_S; every stage has a timeout, cut to what is left;
#       stages past the budget are reported as skipped and fail the check); the CPU stages (the parity runs' CPU
#       halves, the torch.save checkpoint) run in the background while the GPU tests run.
#       Exits 1 when a stage fails or is skipped for the budget, 3 when there is no NVIDIA GPU, 4 when there is one
#       but the CUDA backend cannot start (driver, NVRTC or cuBLAS missing: info.log and libraries.log say what was
#       tried), 143 or 130 when stopped by SIGTERM or SIGINT (what still ran is stopped, the work folder removed).
#
# Environment: HRM_GPU_BUNDLE (bundle path, default gpu-check/bundle.tar.xz next to this repo's scripts/),
# HRM_CUDA_LIB_DIR (directories holding libnvrtc/libcublas, ':'-separated; otherwise common locations are searched),
# HRM_GPU_CHECK_BUDGET_S (seconds all stages of `run` may take together, default 450; later stages are skipped
# when spent), HRM_GPU_CHECK_STAGES (an extended regex: only the stages whose name matches run, and `hrm info`
# always, e.g. 'GPU tests|benchmark'), HRM_GPU_CHECK_TESTS (the runtime test stage's filter instead of
# '-namespace Hrm.Runtime.Tests.Cuda', words split on spaces, no globbing, e.g.
# '-class Hrm.Runtime.Tests.Cuda.CudaFusedModuleTests'), HRM_GPU_CHECK_BENCH (arguments after `hrm-bench gpu`, e.g.
# '--fused'). The last three make a short second run on a scarce GPU.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE="${HRM_GPU_BUNDLE:-$ROOT/gpu-check/bundle.tar.xz}"
MAX_BUNDLE_BYTES=$((60 * 1000 * 1000))
APPS=(Hrm.Runtime.Tests:tests/Hrm.Runtime.Tests Hrm.Train.Tests:tests/Hrm.Train.Tests hrm-bench:src/Hrm.Bench hrm:src/Hrm.Train)

die() { echo "gpu-check: $*" >&2; exit 2; }

build() {
    command -v dotnet >/dev/null || die "build needs the .NET SDK (dotnet not found)"
    local out="$ROOT/gpu-check"
    rm -rf "$out/publish" "$out/artifacts" "$out/bundle.tar.xz"
    mkdir -p "$out/publish"
    for app in "${APPS[@]}"; do
        local name="${app%%:*}" proj="${app#*:}"
        echo "== publish $proj -> gpu-check/publish/$name"
        # --artifacts-path keeps the RID-specific restore and build out of the projects' own bin/ and obj/.
        # HrmNoTorch: hrm-bench without the TorchSharp baseline (`compare`): libtorch alone is 460 MB.
        dotnet publish "$ROOT/$proj" -c Release -r linux-x64 --self-contained true --nologo -v quiet -p:HrmNoTorch=true \
            --artifacts-path "$out/artifacts" -o "$out/publish/$name" || die "dotnet publish $proj failed"
    done
    rm -rf "$out/artifacts"
    echo "== hard-linking identical files"
    (cd "$out/publish" && find . -type f -print0 | xargs -0 sha256sum | sort |
        awk '{ if ($1 == h) print f "\t" $2; else { h = $1; f = $2 } }' |
        while IFS=$'\t' read -r first dup; do ln -f "$first" "$dup"; done)
    echo "== packing gpu-check/bundle.tar.xz"
    tar -C "$out" -cf - publish | xz -9e -T0 > "$out/bundle.tar.xz" || die "packing failed"
    local bytes; bytes=$(stat -c %s "$out/bundle.tar.xz")
    echo "bundle: $out/bundle.tar.xz, $((bytes / 1000000)) MB ($bytes bytes); unpacked $(du -sh "$out/publish" | cut -f1)"
    [ "$bytes" -lt "$MAX_BUNDLE_BYTES" ] || die "the bundle is $bytes bytes; it must stay under $MAX_BUNDLE_BYTES"
}

# Puts the directory of each of libnvrtc, libcublas and libcublasLt on LD_LIBRARY_PATH unless the loader finds it
# already (ldconfig). Looks in HRM_CUDA_LIB_DIR (':'-separated), $CUDA_HOME, $CUDA_PATH, /usr/local/cuda*, the
# NVIDIA pip wheels of every python3 on PATH (PyTorch's CUDA libraries), then common roots; only versioned names
# (libnvrtc.so.13, ...), never a toolkit's stubs/ directory. Must run in the main shell (no pipe), or the export is lost.
find_cuda_libs() {
    local lib dir r py paths
    local -a roots=()
    if [ -n "${HRM_CUDA_LIB_DIR:-}" ]; then IFS=: read -r -a roots <<< "$HRM_CUDA_LIB_DIR"; fi
    for r in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda /usr/local/cuda-*; do
        [ -n "$r" ] && [ -d "$r" ] && roots+=("$r")
    done
    for py in python3 python; do
        command -v "$py" >/dev/null || continue
        paths=$("$py" -c 'import nvidia; print("\n".join(nvidia.__path__))' 2>/dev/null) || continue
        while IFS= read -r r; do [ -d "$r" ] && roots+=("$r"); done <<< "$paths"
    done
    roots+=(/usr/local /opt /usr/lib /usr/lib64 /usr/lib/x86_64-linux-gnu "${HOME:-/root}/.local")
    for lib in libnvrtc libcublas libcublasLt; do
        if ldconfig -p 2>/dev/null | grep -q "[[:space:]]$lib\.so\.[0-9]"; then
            echo "$lib: found by the loader (ldconfig)"
            continue
        fi
        dir=$(timeout 60 find "${roots[@]}" -maxdepth 8 -type d -name stubs -prune -o -name "$lib.so.[0-9]*" -print \
            2>/dev/null | head -n 1 | xargs -r dirname)
        if [ -n "$dir" ]; then
            case ":${LD_LIBRARY_PATH:-}:" in *":$dir:"*) ;; *) export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;; esac
            echo "$lib: found in $dir"
        else
            echo "$lib: not found under ${roots[*]} (set HRM_CUDA_LIB_DIR)"
        fi
    done
    echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
}

STAGES=()
BUDGET_S="${HRM_GPU_CHECK_BUDGET_S:-450}"   # every stage's timeout is cut to what is left of this (7.5 minutes)
[[ "$BUDGET_S" =~ ^[0-9]+$ ]] || die "HRM_GPU_CHECK_BUDGET_S must be a whole number of seconds, got '$BUDGET_S'"
DEADLINE=$((SECONDS + BUDGET_S))

# want NAME: whether HRM_GPU_CHECK_STAGES lets stage NAME run (`hrm info` always runs); selected NAME: the same, with
# the summary's row when not.
want() { [ -z "${HRM_GPU_CHECK_STAGES:-}" ] || [ "$1" = "hrm info" ] || [[ "$1" =~ $HRM_GPU_CHECK_STAGES ]]; }
selected() {
    want "$1" && return 0
    STAGES+=("| $1 | SKIPPED: not in HRM_GPU_CHECK_STAGES | 0 | |")
    return 1
}

# record NAME RC SECONDS LIMIT LOGNAME: the summary's row of a stage that ran (exit RC; 124: its timeout).
record() {
    local name="$1" rc="$2" s="$3" limit="$4" logname="$5" status=PASS counts
    tail -n 15 "$OUT/$logname" | sed 's/\x1b\[[0-9;]*m//g'
    [ "$rc" -eq 0 ] || status="FAIL (exit $rc)"
    { [ "$rc" -eq 124 ] || { [ "$rc" -eq 137 ] && [ "$s" -ge "$limit" ]; }; } && status="TIMEOUT (${limit}s)"
    counts=$(sed 's/\x1b\[[0-9;]*m//g' "$OUT/$logname" |
        grep -o 'Total: [0-9]*, Errors: [0-9]*, Failed: [0-9]*, Skipped: [0-9]*' | tail -n 1)
    [ -n "$counts" ] && status="$status; $counts"
    STAGES+=("| $name | $status | $s | $logname |")
    return "$rc"
}

# stage NAME TIMEOUT_S LOG CMD...: runs CMD with a timeout, its output into OUT/LOG (and a tail on screen).
stage() {
    local name="$1" limit="$2" logname="$3"; shift 3
    local left=$((DEADLINE - SECONDS))
    selected "$name" || return 0
    if [ $left -lt 5 ]; then
        STAGES+=("| $name | SKIPPED: the ${BUDGET_S}s budget is spent | 0 | |")
        return 1
    fi
    [ "$limit" -gt $left ] && limit=$left
    echo "== $name (timeout ${limit}s, log $OUT/$logname)"
    local t0=$SECONDS rc
    timeout --kill-after=10 "$limit" "$@" > "$OUT/$logname" 2>&1 &  # waited for: cleanup can stop it
    wait $!; rc=$?
    record "$name" $rc $((SECONDS - t0)) "$limit" "$logname"
}

# The stages that run on the CPU (the CPU halves of the parity runs; the torch.save checkpoint, which also puts a few
# tensors on the GPU) run one after another in a background job while the GPU tests run: the check then fits its
# budget. bg NAME TIMEOUT_S LOG CMD... runs one in that job's shell (where HRM_GPU_CHECK_STAGES chooses it) and writes
# its outcome to OUT/LOG.rc ("RC SECONDS LIMIT", "SKIPPED: why" or "BUDGET: why"; written whole, by a rename);
# bg_collect NAME LOG, in the main shell, waits for that file (or the job's end) and records the stage's row as
# `stage` would (its seconds are its own, not the wait's); a stage the budget left out fails the check, as in `stage`.
BG_PID=""
BG_CHILD=""
bg() {
    local name="$1" limit="$2" logname="$3"; shift 3
    local left=$((DEADLINE - SECONDS)) t0=$SECONDS rc
    want "$name" || return 0
    if [ $left -lt 5 ]; then
        bg_outcome "$logname" "BUDGET: the ${BUDGET_S}s budget is spent"
        return 0
    fi
    [ "$limit" -gt $left ] && limit=$left
    timeout --kill-after=10 "$limit" "$@" > "$OUT/$logname" 2>&1 &
    BG_CHILD=$!
    wait "$BG_CHILD"; rc=$?
    BG_CHILD=""
    bg_outcome "$logname" "$rc $((SECONDS - t0)) $limit"
}
bg_outcome() { echo "$2" > "$OUT/$1.rc.tmp" && mv "$OUT/$1.rc.tmp" "$OUT/$1.rc"; }
bg_collect() {
    local name="$1" logname="$2" rc s limit rcfile="$OUT/$2.rc"
    selected "$name" || return 0
    while [ -n "$BG_PID" ] && [ ! -e "$rcfile" ] && kill -0 "$BG_PID" 2> /dev/null; do sleep 1; done
    echo "== $name (ran in the background, log $OUT/$logname)"
    if [ ! -e "$rcfile" ] || ! read -r rc s limit < "$rcfile"; then
        STAGES+=("| $name | NOT RUN: the background job did not get to it | 0 | |")
        return 1
    fi
    rm -f "$rcfile"
    case "$rc" in
        SKIPPED:) STAGES+=("| $name | SKIPPED: $s $limit | 0 | |"); return 0 ;;
        BUDGET:) STAGES+=("| $name | SKIPPED: $s $limit | 0 | |"); return 1 ;;
    esac
    record "$name" "$rc" "$s" "$limit" "$logname"
}

# At exit (a signal too: the TERM and INT traps exit): stops what still runs (the foreground stage's timeout, which
# passes the signal on, and the background job), waits for it, and removes the work folder.
WORK=""
cleanup() {
    local pids
    pids=$(jobs -p)
    [ -n "$pids" ] && kill $pids 2> /dev/null
    wait 2> /dev/null
    [ -n "$WORK" ] && rm -rf "$WORK"
}

summary() {
    echo
    echo "## gpu-check summary ($(date -u +%Y-%m-%dT%H:%M:%SZ), ${SECONDS}s)"
    echo
    echo "| stage | status | s | log |"
    echo "|---|---|---:|---|"
    printf '%s\n' "${STAGES[@]}"
    if [ -s "$OUT/bench.log" ] && grep -q '^| ' "$OUT/bench.log"; then
        echo
        echo "## GPU benchmark"
        echo
        grep -E '^(device:|\||gemm tuning|  [0-9]+x|fused module kernel)' "$OUT/bench.log"
    fi
    if [ -s "$OUT/profile-train.log" ] && grep -q '^total' "$OUT/profile-train.log"; then
        echo
        echo "## Training step, op by op"
        echo
        head -n 16 "$OUT/profile-train.log"
    fi
    if [ -s "$OUT/maze-train.log" ]; then
        echo
        echo "## Maze training at batch 768"
        echo
        grep -E '^(micro-batches|run directory|\[#)' "$OUT/maze-train.log" | tail -n 4
    fi
    if [ -s "$OUT/profile-solve.log" ] && grep -q '^total' "$OUT/profile-solve.log"; then
        echo
        echo "## Batch-1 segment forward, op by op"
        echo
        head -n 12 "$OUT/profile-solve.log"
    fi
}

# Compares train/lm_loss per step of two metrics.jsonl files; fails above TOL relative (third argument, default 1e-3).
compare_losses() {
    awk -v tol="${3:-1e-3}" '
        function grab(line, key,   m) { if (match(line, "\"" key "\":[-0-9.eE+]+")) return substr(line, RSTART + length(key) + 3, RLENGTH - length(key) - 3); return "" }
        FNR == 1 { file++ }
        { s = grab($0, "step"); v = grab($0, "train/lm_loss"); if (s == "" || v == "") next; val[file, s] = v; steps[s] = 1 }
        END {
            worst = 0; n = 0
            for (s in steps) {
                if (!((1, s) in val) || !((2, s) in val)) { print "step " s " is missing in one run"; bad = 1; continue }
                a = val[1, s]; b = val[2, s]; d = a - b; if (d < 0) d = -d; r = d / (a < 0 ? -a : a)
                printf "step %s: lm_loss cpu %.9g cuda %.9g rel %.2e\n", s, a, b, r
                if (r > worst) worst = r; n++
            }
            printf "%d steps compared, worst relative difference %.2e (tolerance %g)\n", n, worst, tol
            exit (bad || n == 0 || worst > tol) ? 1 : 0
        }' "$1" "$2"
}

# A checkpoint written by PyTorch itself, as the reference writes its step_N files (torch.save of the state dict, an
# OrderedDict with _metadata; torch.compile's _orig_mod. names; H_init/L_init bf16; tensors on the GPU when there is
# one) and its all_config.yaml (yaml.dump of the run config, when python3 has PyYAML; else the arch as JSON): our
# initial weights (the tiny preset) saved that way must evaluate exactly as our own safetensors copy (CPU, both). The
# file is copied into OUT as a fixture. Arguments: the hrm executable, a work folder, OUT.
torch_checkpoint() {
    local hrm="$1" dir="$2" out="$3"
    mkdir -p "$dir" || return 1
    "$hrm" init --preset tiny --seed 3 --out "$dir/ours.safetensors" || return 1
    "$hrm" data sudoku --generate 16 --test 16 --size 9 --seed 2 --out "$dir/data" > /dev/null || return 1
    python3 - "$dir/ours.safetensors" "$dir/step_1" "$dir" <<'PY' || return 1
import collections, json, struct, sys, torch
src, dst, folder = sys.argv[1:4]
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
arch = json.loads(header.pop("__metadata__")["config"])
dtypes = {"F32": torch.float32, "BF16": torch.bfloat16}
sd = collections.OrderedDict()
sd._metadata = collections.OrderedDict([("", {"version": 1})])
for i, (name, t) in enumerate(header.items()):
    b, e = t["data_offsets"]
    x = torch.frombuffer(bytearray(raw[8 + n + b:8 + n + e]), dtype=dtypes[t["dtype"]]).reshape(t["shape"]).clone()
    sd["_orig_mod." + name] = x.cuda() if torch.cuda.is_available() and i % 2 else x
torch.save(sd, dst)
run = {"arch": arch, "checkpoint_path": "checkpoints/Sudoku-extreme-1k-aug-1000 ACT-torch/HierarchicalReasoningModel_ACTV1 loving-mongrel",
       "data_path": "data/sudoku-extreme-1k-aug-1000", "eval_save_outputs": [], "lr": 7e-05, "project_name": None}
try:
    import yaml
    open(folder + "/all_config.yaml", "w").write(yaml.dump(run))
    print("wrote all_config.yaml with PyYAML", yaml.__version__)
except ImportError:
    open(folder + "/all_config.yaml", "w").write(json.dumps(run))
    print("no PyYAML: all_config.yaml holds JSON")
print(f"torch {torch.__version__} saved {len(sd)} tensors to {dst}")
PY
    cp "$dir/step_1" "$dir/all_config.yaml" "$out/" 2>/dev/null
    local common=(eval --data "$dir/data" --max-steps 2 --device cpu --threads 2)
    "$hrm" "${common[@]}" --checkpoint "$dir/ours.safetensors" > "$dir/ours.txt" || return 1
    "$hrm" "${common[@]}" --checkpoint "$dir/step_1" --config "$dir/all_config.yaml" > "$dir/torch.txt" || return 1
    grep '^eval/' "$dir/torch.txt"
    if diff <(grep '^eval/' "$dir/ours.txt") <(grep '^eval/' "$dir/torch.txt"); then
        echo "the torch.save checkpoint evaluates exactly as our safetensors copy"
    else
        echo "MISMATCH between the torch.save checkpoint and our copy"; return 1
    fi
}

run() {
    OUT="${1:?usage: gpu-check.sh run OUT_DIR}"
    mkdir -p "$OUT" || die "cannot create $OUT"
    OUT="$(cd "$OUT" && pwd)"
    [ -f "$BUNDLE" ] || die "no bundle at $BUNDLE (run 'scripts/gpu-check.sh build' on a machine with the .NET SDK)"
    if [ -n "${HRM_GPU_CHECK_STAGES:-}" ]; then
        [[ "" =~ $HRM_GPU_CHECK_STAGES ]]
        [ $? -ne 2 ] || die "HRM_GPU_CHECK_STAGES is not an extended regular expression: '$HRM_GPU_CHECK_STAGES'"
    fi
    local work; work="$(mktemp -d "${TMPDIR:-/tmp}/hrm-gpu-check.XXXXXX")" || die "mktemp failed"
    WORK="$work"
    trap cleanup EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
    echo "== unpacking $BUNDLE into $work"
    if command -v xz >/dev/null; then xz -dc "$BUNDLE"; else
        python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$BUNDLE"
    fi | tar -C "$work" -xf - || die "could not unpack $BUNDLE (needs xz or python3)"
    local pub="$work/publish"
    export HRM_KERNEL_CACHE="$work/kernel-cache" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

    local gpu=1 why=""
    echo "== nvidia-smi"
    if ! command -v nvidia-smi >/dev/null; then
        gpu=0; why="nvidia-smi not found"
    elif ! nvidia-smi > "$OUT/nvidia-smi.log" 2>&1; then
        gpu=0; why="nvidia-smi failed: $(head -n 1 "$OUT/nvidia-smi.log")"
    fi
    [ -f "$OUT/nvidia-smi.log" ] && cat "$OUT/nvidia-smi.log"
    [ $gpu -eq 1 ] || echo "$why" | tee "$OUT/nvidia-smi.log"
    find_cuda_libs > "$OUT/libraries.log" 2>&1   # not in a pipe: its exports must reach the stages
    cat "$OUT/libraries.log"

    local failed=0
    stage "hrm info" 20 info.log "$pub/hrm/hrm" info --preset sudoku-extreme-1k --batch 768 || failed=1
    if [ $gpu -eq 1 ] && [ -f "$OUT/info.log" ] &&
        { grep -q '^cuda: unavailable' "$OUT/info.log" || ! grep -q '^cuda: ' "$OUT/info.log"; }; then
        # A GPU but no usable CUDA stack: every GPU test would skip; say why now instead of minutes later (after the
        # torch.save checkpoint, which needs no CUDA backend).
        cpu_stages "$pub" "$work" 0 &
        BG_PID=$!
        bg_collect "$TORCH_STAGE" torch-checkpoint.log
        STAGES+=("| GPU tests, parity, benchmark | NOT RUN: $(grep -m1 '^cuda:' "$OUT/info.log" | cut -c1-300) | 0 | info.log |")
        summary | tee "$OUT/summary.md"
        echo "gpu-check: there is a GPU but the CUDA backend cannot start (see info.log, libraries.log)" | tee -a "$OUT/summary.md" >&2
        exit 4
    fi
    if [ $gpu -eq 1 ]; then
        stage "parity data (9x9 Sudoku, 256 + 32)" 30 parity-data.log \
            "$pub/hrm/hrm" data sudoku --generate 256 --test 32 --size 9 --seed 1 --out "$work/sudoku" || failed=1
    fi
    cpu_stages "$pub" "$work" $gpu &
    BG_PID=$!
    local -a tests bench
    set -f  # the selections' words are arguments (quotes in them are not parsed), not file patterns
    # shellcheck disable=SC2206
    tests=(${HRM_GPU_CHECK_TESTS:-}) bench=(${HRM_GPU_CHECK_BENCH:-})
    set +f
    [ ${#tests[@]} -gt 0 ] || tests=(-namespace Hrm.Runtime.Tests.Cuda)
    stage "GPU tests: Hrm.Runtime.Tests.Cuda" 220 runtime-tests.log \
        "$pub/Hrm.Runtime.Tests/Hrm.Runtime.Tests" "${tests[@]}" -noColor -parallelMode none || failed=1
    stage "GPU tests: Hrm.Train.Tests.Cli.CudaCliTests" 60 train-tests.log \
        "$pub/Hrm.Train.Tests/Hrm.Train.Tests" -class Hrm.Train.Tests.Cli.CudaCliTests -noColor || failed=1
    if [ $gpu -eq 0 ]; then
        bg_collect "$TORCH_STAGE" torch-checkpoint.log || failed=1
        STAGES+=("| parity, benchmark | SKIPPED: no NVIDIA GPU ($why) | 0 | |")
        summary | tee "$OUT/summary.md"
        grep -h "Skipped:" "$OUT"/runtime-tests.log "$OUT"/train-tests.log | sed 's/\x1b\[[0-9;]*m//g'
        echo "gpu-check: no NVIDIA GPU: $why" | tee -a "$OUT/summary.md" >&2
        exit 3
    fi
    parity_stages "$pub" "$work" || failed=1
    stage "benchmark: hrm-bench gpu" 240 bench.log "$pub/hrm-bench/hrm-bench" gpu ${bench[@]+"${bench[@]}"} || failed=1
    stage "profile: training step op by op (batch 768, bf16 GEMMs)" 60 profile-train.log \
        "$pub/hrm-bench/hrm-bench" gpu-profile-train sudoku-extreme-1k 768 2 || failed=1
    # The reference's Maze config at batch 768 does not fit one GPU whole: hrm train picks micro-batches by itself.
    stage "maze data (800 x 8 views + 64)" 30 maze-data.log \
        "$pub/hrm/hrm" data maze --generate 800 --test 64 --aug --seed 1 --out "$work/maze" || failed=1
    stage "maze: hrm train, batch 768, micro-batches chosen by free memory (1 step + eval)" 150 maze-train.log \
        "$pub/hrm/hrm" train --preset maze-30x30-hard-1k --data "$work/maze" --run-dir "$work/run-maze" --device cuda \
        --set epochs=1 --set eval_interval=1 || failed=1
    stage "profile: batch-1 segment forward op by op (bf16 GEMMs)" 30 profile-solve.log \
        "$pub/hrm-bench/hrm-bench" gpu-profile sudoku-extreme-1k 1 16 || failed=1
    bg_collect "$TORCH_STAGE" torch-checkpoint.log || failed=1
    summary | tee "$OUT/summary.md"
    [ $failed -eq 0 ] || { echo "gpu-check: some stages failed (see $OUT)" >&2; exit 1; }
}

# The parity runs: 8 steps of the quickstart (fp32 GEMMs, then bf16), then at head size 64 (2 heads of 64: the bf16
# tensor-core attention and the bf16 no-grad q/k/v, which the quickstart's head size 16 never reaches), then with the
# Sudoku config's 2 H and 2 L cycles (the quickstart's 1 and 1 record every module call; with 2x2, 4 of a segment's
# 6 module calls are no-grad forwards): the default (their residual stream in bf16, as the reference's), then with
# --no-bf16-stream (fp32). The CPU halves run in cpu_stages.
TORCH_STAGE="a checkpoint written by PyTorch's torch.save loads (CPU)"
STEPS=(--preset sudoku-quickstart --set epochs=2 --set eval_interval=2 --set log_interval=1)
HS64=(--set hidden_size=128 --set num_heads=2)
C22=(--set hidden_size=128 --set num_heads=2 --set H_cycles=2 --set L_cycles=2)

# cpu_stages PUB WORK GPU: the background job (see bg): the CPU training runs of the parity checks (with a GPU), then
# the torch.save checkpoint.
cpu_stages() {
    local pub="$1" work="$2" gpu="$3" data="$2/sudoku" n
    # Stopped (cleanup): the running stage's timeout too, which passes the signal on; waited for, as hrm train stops
    # after its step with a checkpoint into the work folder that cleanup then removes.
    trap '[ -n "$BG_CHILD" ] && kill "$BG_CHILD" 2> /dev/null && wait "$BG_CHILD"; exit 143' TERM
    # Half the cores: the GPU tests check against the CPU meanwhile (the CPU's results do not depend on its threads).
    n=$(nproc 2> /dev/null || echo 2); n=$(((n + 1) / 2))
    local -a train=("$pub/hrm/hrm" train "${STEPS[@]}" --data "$data" --device cpu --threads $n)
    if [ "$gpu" -eq 1 ]; then
        bg "parity: train 8 steps on cpu" 60 parity-cpu.log "${train[@]}" --run-dir "$work/run-cpu"
        bg "parity HS 64: train 8 steps on cpu" 60 parity-hs64-cpu.log "${train[@]}" "${HS64[@]}" \
            --run-dir "$work/run-hs64-cpu"
        bg "parity HS 64, 2x2 cycles: train 8 steps on cpu" 60 parity-c22-cpu.log "${train[@]}" "${C22[@]}" \
            --run-dir "$work/run-c22-cpu"
    fi
    if ! want "$TORCH_STAGE"; then
        return 0
    elif [ $((DEADLINE - SECONDS)) -lt 5 ]; then
        bg_outcome torch-checkpoint.log "BUDGET: the ${BUDGET_S}s budget is spent"
    elif ! timeout 30 python3 -c 'import torch' > /dev/null 2>&1; then
        bg_outcome torch-checkpoint.log "SKIPPED: python3 has no torch here (or took over 30 s to import it)"
    else
        bg "$TORCH_STAGE" 90 torch-checkpoint.log \
            bash -c 'torch_checkpoint "$0" "$1" "$2"' "$pub/hrm/hrm" "$work/torch-checkpoint" "$OUT"
    fi
}

# parity_stages PUB WORK: the CUDA halves of the parity runs and the comparisons; fails when one of them does.
parity_stages() {
    local pub="$1" work="$2" data="$2/sudoku" f=0
    local -a train=("$pub/hrm/hrm" train "${STEPS[@]}" --data "$data")
    bg_collect "parity: train 8 steps on cpu" parity-cpu.log || f=1
    stage "parity: train 8 steps on cuda, fp32 GEMMs" 60 parity-cuda.log \
        "${train[@]}" --run-dir "$work/run-cuda" --device cuda --fp32-matmul || f=1
    compare "parity: lm_loss cpu vs cuda fp32 GEMMs (rel <= 1e-3)" parity-compare.log run-cpu run-cuda 1e-3 || f=1
    stage "parity: train 8 steps on cuda, bf16 GEMMs (the default)" 60 parity-cuda-bf16.log \
        "${train[@]}" --run-dir "$work/run-cuda-bf16" --device cuda || f=1
    compare "parity: lm_loss cpu vs cuda bf16 GEMMs (rel <= 2e-2, an estimate)" parity-compare-bf16.log \
        run-cpu run-cuda-bf16 2e-2 || f=1
    bg_collect "parity HS 64: train 8 steps on cpu" parity-hs64-cpu.log || f=1
    stage "parity HS 64: train 8 steps on cuda (bf16 attention and GEMMs)" 60 parity-hs64-cuda.log \
        "${train[@]}" "${HS64[@]}" --run-dir "$work/run-hs64-cuda" --device cuda || f=1
    compare "parity HS 64: lm_loss cpu vs cuda (rel <= 2e-2, an estimate)" parity-compare-hs64.log \
        run-hs64-cpu run-hs64-cuda 2e-2 || f=1
    bg_collect "parity HS 64, 2x2 cycles: train 8 steps on cpu" parity-c22-cpu.log || f=1
    stage "parity HS 64, 2x2 cycles: train 8 steps on cuda" 60 parity-c22-cuda.log \
        "${train[@]}" "${C22[@]}" --run-dir "$work/run-c22-cuda" --device cuda || f=1
    compare "parity HS 64, 2x2 cycles: lm_loss cpu vs cuda (rel <= 2e-2, an estimate)" parity-compare-c22.log \
        run-c22-cpu run-c22-cuda 2e-2 || f=1
    stage "parity HS 64, 2x2 cycles: train 8 steps on cuda with --no-bf16-stream" 60 parity-c22-fp32-stream.log \
        "${train[@]}" "${C22[@]}" --run-dir "$work/run-c22-fp32-stream" --device cuda --no-bf16-stream || f=1
    compare "parity HS 64, 2x2 cycles: lm_loss cpu vs cuda --no-bf16-stream (rel <= 2e-2, an estimate)" \
        parity-compare-c22-fp32-stream.log run-c22-cpu run-c22-fp32-stream 2e-2 || f=1
    return $f
}

# compare NAME LOG CPU_RUN CUDA_RUN TOL: the stage comparing two runs' lm_loss (folders under $work).
compare() {
    stage "$1" 10 "$2" bash -c 'compare_losses "$0" "$1" "$2"' "$work/$3/metrics.jsonl" "$work/$4/metrics.jsonl" "$5"
}

export -f compare_losses torch_checkpoint
case "${1:-}" in
    build) build ;;
    run) shift; run "$@" ;;
    *) echo "usage: scripts/gpu-check.sh build | scripts/gpu-check.sh run OUT_DIR" >&2; exit 2 ;;
esac
