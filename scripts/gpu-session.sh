#!/usr/bin/env bash
# One bounded call on the GPU machine: correctness first, then speed beside the PyTorch peers, each
# step skipped when the deadline is near, so a short device lease still returns the checks that
# matter most. Made for the `device` tool (../shared/DEVICE.md); nothing here runs in CI.
#
# Prepared here first (all ignored):
#   npx tsx scripts/gpu-fixtures.ts                        # .gpu/: weights, references, images, coco128
#   ../shared/tools/device-pack tsx sharp yaml protobufjs  # .device/: Node.js and the packages
#   npm run build:native; mkdir -p .gpu/carry /tmp/nt
#   tar -cJf .gpu/carry/release.tar.xz -C native/build Release
#   (cd native/build && ninja netdef_bench_igemm_conv)     # optional: the igemm-against-cuDNN timing
#   cp native/build/netdef_native_tests native/build/netdef_bench_igemm_conv /tmp/nt/ && tar -cJf .gpu/carry/tests.tar.xz -C /tmp nt
# Device call (carry .device, .gpu/carry, .gpu/yolov8n, .gpu/images, .gpu/coco128, .gpu/coco.names):
#   DEADLINE=540 STEPS="native cuda-engine bench-n torch-n" bash scripts/gpu-session.sh
# STEPS (default: all, in this order): native cuda-engine bench-igemm native-onestream cuda-engine-onestream bench-n bench-n-new bench-n-nopdl bench-n-onestream bench-base-n bench-base-x32 bench-base-int8-n prof-n32 prof-n1
# torch-n coco-fp16 bench-x bench-x32-nowgmma bench-x32 bench-x32-new bench-int8-x32-new prof-x32 prof-int8-x32 bench-x-t16 torch-x bench-x-t1 timing-cache int8 bench-int8-n bench-int8-n-new prof-int8-n1 prof-int8-n32
# bench-mixed ncu-n32 ncu-igemm ncu-igemm256 (bench-n-new, bench-int8-n-new: bench-n's and bench-int8-n's with every usable igemm tile
# timed, NETDEF_CUDA_ALL_TILES=1; prof-int8-*: the per-layer profile of all-int8 yolov8n; bench-x-t1/t16:
# yolov8x batch 32 built with NETDEF_CUDA_PLAN_THREADS=1 / 16, for the build-time comparison; bench-n-nopdl:
# bench-n with NETDEF_CUDA_PDL=0, programmatic dependent launch off; bench-n-onestream: bench-n with NETDEF_CUDA_STREAMS=0,
# every op on one stream (side streams are the default); native-onestream, cuda-engine-onestream: the engine tests so; bench-x32: yolov8x batch 32 only; prof-int8-x32: all-int8 yolov8x batch 32's per-layer profile; bench-x32-new: with every usable igemm tile timed, those the engine leaves out too (NETDEF_CUDA_ALL_TILES=1), and bench-int8-x32-new its fp16, int8 and int8-mixed (16 calibration images from $CALIB, coco128's by default); prof-x32: yolov8x batch 32's per-layer profile; bench-x32-nowgmma: the same without the wgmma tile, NETDEF_CUDA_WGMMA=0). bench-base-n
# (and bench-base-x32, bench-base-int8-n: int8 yolov8n at batch 1 and 32) runs bench-n's (bench-x32's) command with a
# baseline addon (an earlier commit's build, packed as .gpu/carry/base.tar.xz holding
# Release/netdef_native.node) swapped in, so a change is measured before and after in one run. Every log goes into $OUT/logs.tgz (one file, so the
# device tool's file-count limit keeps it); a summary (JSON result lines, tables, PASS/FAIL
# counts) goes to stdout.
set -u
DEADLINE=${DEADLINE:-540}
STEPS=${STEPS:-"native cuda-engine bench-igemm native-onestream cuda-engine-onestream bench-n bench-n-new bench-n-nopdl bench-n-onestream bench-base-n bench-base-x32 bench-base-int8-n prof-n32 prof-n1 torch-n coco-fp16 bench-x bench-x32-nowgmma bench-x32 bench-x32-new bench-int8-x32-new prof-x32 prof-int8-x32 bench-x-t16 torch-x bench-x-t1 timing-cache int8 bench-int8-n bench-int8-n-new prof-int8-n1 prof-int8-n32 bench-mixed ncu-n32 ncu-igemm ncu-igemm256"}
START=$(date +%s)
OUT=${OUT:-/tmp/out}
LOGS=$(mktemp -d)
mkdir -p "$OUT"
left() { echo $(( DEADLINE - ($(date +%s) - START) )); }
step() { # step NAME NEED_S MAX_S cmd...
  local name=$1 need=$2 max=$3; shift 3
  case " $STEPS " in *" $name "* | *" ${name%%:*} "*) ;; *) return ;; esac  # NAME:PART runs with NAME
  local l; l=$(left)
  if [ "$l" -lt "$need" ]; then echo "== $name skipped ($l s left)" >> "$LOGS/summary.log"; return; fi
  [ "$max" -gt "$l" ] && max=$l
  local t0; t0=$(date +%s)
  timeout -k 5 "$max" "$@" > "$LOGS/$name.log" 2>&1
  echo "== $name rc=$? $(( $(date +%s) - t0 )) s" >> "$LOGS/summary.log"
  grep -E '^\{|^\| |forward median|^# (pass|fail)|^FAIL|[0-9]+ passed|coco128 yolov8n|restored from .* bytes of JSON|cold build [0-9.]+ s, warm|engine file loaded in|plan texts in the cache|restored from the timing cache|netdef:igemm_conv [0-9]+x[0-9]+x[0-9]+ float16' "$LOGS/$name.log" |
    grep -v '"kernels"' | cut -c1-400 >> "$LOGS/summary.log"
  # Nsight Compute's section lines (ncu-*): throughput, issue, eligibility, occupancy limits.
  grep -E '^    (Duration|[A-Za-z0-9/ .]*Throughput|Warp Cycles|Issued|One or More Eligible|Eligible Warps|Active Warps|Block Limit Registers)' \
    "$LOGS/$name.log" | head -40 >> "$LOGS/summary.log"
}
source .device/env.sh > "$LOGS/env.log" 2>&1
mkdir -p native/build && tar -xJf .gpu/carry/release.tar.xz -C native/build
tar -xJf .gpu/carry/tests.tar.xz -C /tmp
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,driver_version --format=csv >> "$LOGS/summary.log" 2>&1
export NODE_OPTIONS=--max-old-space-size=8192
TS="node --import tsx"
W=.gpu/yolov8n/weights.safetensors
# The yolov8x int8 steps' calibration images (random weights: only their speed is measured), so a
# call that carries the igemm bench binary may leave coco128 behind: CALIB=.gpu/images.
CALIB=${CALIB:-.gpu/coco128/images}
step native 40 120 /tmp/nt/netdef_native_tests direct_conv detect_decode activation elementwise copy_strided pooling resize_nearest softmax cast quantize matmul graph_capture candidates igemm_conv igemm_conv_f16 engine
# The wgmma tile (Hopper) stays among the timed tiles only where the native tests ran to the end
# with no wgmma failure; otherwise every later step runs without it (NETDEF_CUDA_WGMMA=0).
if [ -f "$LOGS/native.log" ] && { ! grep -q 'passed, [0-9]* failed' "$LOGS/native.log" || grep -q '^FAIL.*wgmma' "$LOGS/native.log"; }; then
  export NETDEF_CUDA_WGMMA=0; echo "== wgmma tile off for the later steps (native tests failed or stopped)" >> "$LOGS/summary.log"
  STEPS=${STEPS//bench-igemm/}; STEPS=${STEPS//ncu-igemm/}  # they run every tile (a hang would eat their time limits)
fi
step cuda-engine 60 120 $TS --test --test-concurrency=1 test/gpu/cuda-engine.test.ts
# netdef's implicit GEMM (int8 and float16 inputs, every tile) against cuDNN on YOLOv8 shapes, when packed.
[ -x /tmp/nt/netdef_bench_igemm_conv ] && step bench-igemm 40 120 /tmp/nt/netdef_bench_igemm_conv
step native-onestream 30 90 env NETDEF_CUDA_STREAMS=0 /tmp/nt/netdef_native_tests engine
step cuda-engine-onestream 60 120 env NETDEF_CUDA_STREAMS=0 $TS --test --test-concurrency=1 test/gpu/cuda-engine.test.ts
step bench-n 40 80 $TS scripts/bench/gpu.ts --model yolov8n --weights $W --batch 1,32 --precision fp16 --warm
step bench-n-new 40 80 env NETDEF_CUDA_ALL_TILES=1 $TS scripts/bench/gpu.ts --model yolov8n --weights $W --batch 1,32 --precision fp16 --warm
step bench-n-nopdl 40 80 env NETDEF_CUDA_PDL=0 $TS scripts/bench/gpu.ts --model yolov8n --weights $W --batch 1,32 --precision fp16 --warm
step bench-n-onestream 40 80 env NETDEF_CUDA_STREAMS=0 $TS scripts/bench/gpu.ts --model yolov8n --weights $W --batch 1,32 --precision fp16 --warm
ADDON=native/build/Release/netdef_native.node
if [ -f .gpu/carry/base.tar.xz ]; then  # the baseline addon in place of this build's, then this build's back
  BASE=$(mktemp -d) && tar -xJf .gpu/carry/base.tar.xz -C "$BASE" && mv "$ADDON" "$ADDON.current" && cp "$BASE/Release/netdef_native.node" "$ADDON" &&
    { # (the float16 igemm tiles on, as they are by default since 2026-12-07; older addons had them opt-in)
      step bench-base-n 40 80 env NETDEF_CUDA_IGEMM_FP16=1 $TS scripts/bench/gpu.ts --model yolov8n --weights $W --batch 1,32 --precision fp16 --warm
      step bench-base-x32 40 90 env NETDEF_CUDA_IGEMM_FP16=1 $TS scripts/bench/gpu.ts --model yolov8x --batch 32 --precision fp16 --warm
      step bench-base-int8-n 40 90 $TS scripts/bench/gpu.ts --model yolov8n --weights $W --batch 1,32 --precision int8 --calib .gpu/yolov8n/calib.json; }
  [ -f "$ADDON.current" ] && mv "$ADDON.current" "$ADDON"
fi
step prof-n32 25 50 $TS scripts/bench/profile.ts --weights $W --batch 32 --precision fp16 --top 16
step prof-n1 20 40 $TS scripts/bench/profile.ts --weights $W --batch 1 --precision fp16 --top 12
step torch-n 60 150 python3 scripts/bench/torch_yolov8.py --scale n --weights $W --batch 1 32 --dtype fp16 --compile --profile
step coco-fp16 60 150 $TS --test --test-concurrency=1 test/gpu/coco128-fp16.test.ts
step bench-x 60 150 $TS scripts/bench/gpu.ts --model yolov8x --batch 1,32 --precision fp16 --warm
step bench-x32-nowgmma 40 90 env NETDEF_CUDA_WGMMA=0 $TS scripts/bench/gpu.ts --model yolov8x --batch 32 --precision fp16 --warm
step bench-x32 40 90 $TS scripts/bench/gpu.ts --model yolov8x --batch 32 --precision fp16 --warm
# Every usable igemm tile timed, those the engine leaves out (native/src/cuda/igemm_layer.cc) too.
step bench-x32-new 40 90 env NETDEF_CUDA_ALL_TILES=1 $TS scripts/bench/gpu.ts --model yolov8x --batch 32 --precision fp16 --warm
step bench-int8-x32-new 60 180 env NETDEF_CUDA_ALL_TILES=1 $TS scripts/bench/gpu.ts --model yolov8x --batch 32 --precision fp16,int8,int8-mixed --calib-data "$CALIB" --calib-images 16
step prof-x32 30 60 $TS scripts/bench/profile.ts --model yolov8x --batch 32 --precision fp16 --top 16
# All-int8 yolov8x batch 32 per layer (random weights; calibrated as bench-int8-x32-new).
step prof-int8-x32 60 120 $TS scripts/bench/profile.ts --model yolov8x --batch 32 --precision int8 --calib-data "$CALIB" --calib-images 16 --top 16
step bench-x-t16 40 90 env NETDEF_CUDA_PLAN_THREADS=16 $TS scripts/bench/gpu.ts --model yolov8x --batch 32 --precision fp16 --warm
step torch-x 80 200 python3 scripts/bench/torch_yolov8.py --scale x --batch 1 32 --dtype fp16 --compile
step bench-x-t1 40 90 env NETDEF_CUDA_PLAN_THREADS=1 $TS scripts/bench/gpu.ts --model yolov8x --batch 32 --precision fp16 --warm
step timing-cache 30 60 $TS --test --test-concurrency=1 test/gpu/timing-cache.test.ts
# int8 end to end (yolov8n unless yolov8s's fixtures are carried too) and its speed beside fp16.
step int8 60 180 $TS --test --test-concurrency=1 test/gpu/int8.test.ts
step bench-int8-n 40 90 $TS scripts/bench/gpu.ts --model yolov8n --weights $W --batch 1,32 --precision fp16,int8,int8-mixed --calib .gpu/yolov8n/calib.json
step bench-int8-n-new 40 90 env NETDEF_CUDA_ALL_TILES=1 $TS scripts/bench/gpu.ts --model yolov8n --weights $W --batch 1,32 --precision fp16,int8,int8-mixed --calib .gpu/yolov8n/calib.json
step prof-int8-n1 25 50 $TS scripts/bench/profile.ts --weights $W --batch 1 --precision int8 --calib .gpu/yolov8n/calib.json --top 16
step prof-int8-n32 25 50 $TS scripts/bench/profile.ts --weights $W --batch 32 --precision int8 --calib .gpu/yolov8n/calib.json --top 16
step bench-mixed 30 60 $TS scripts/bench/gpu.ts --model yolov8n --weights $W --batch 1 --precision '' --policy '*:fp16,/model.22/:fp32' --policy fp16-fp32-decode --fp32-math tf32
# Nsight Compute on netdef's own slow kernels (the direct stem, DetectDecode) at batch 32, where the
# machine has ncu: throughput, occupancy and memory sections, to say why they take what they take.
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null || true)
[ -n "$NCU" ] && step ncu-n32 60 120 "$NCU" --target-processes all --kernel-name regex:'directConvKernel|detectDecodeKernel' --launch-count 4 \
  --section SpeedOfLight --section Occupancy --section MemoryWorkloadAnalysis --section LaunchStats \
  node --import tsx scripts/bench/profile.ts --weights $W --batch 32 --precision fp16 --top 4
# Nsight Compute on the wgmma kernels at the 3x3 320->320 80x80 batch-32 shape of bench-igemm: the
# warp-specialized 128x160 tile with both operands copied by the tensor memory accelerator (im2col;
# int8 and float16), the one with the weights only (float16) and the 3-stage wgmma tile (float16),
# one launch each, with the warp stall reasons, the pipes' utilization and shared memory's traffic
# (ncu-igemm; needs the bench binary); and the im2col 128x160 and 128x256 tiles (int8) on the
# 3x3 256->256 40x40 batch-32 layer (ncu-igemm256).
if [ -n "$NCU" ] && [ -x /tmp/nt/netdef_bench_igemm_conv ]; then
  ncuIgemm() { # ncuIgemm STEP LAYER KERNEL...: one launch of each kernel (mangled-name regex) on bench-igemm's LAYER
    local name=$1 layer=$2; shift 2
    for k in "$@"; do
      step "$name:$k" 40 90 "$NCU" --kernel-name-base mangled --kernel-name regex:"$k" --launch-count 1 \
        --section SpeedOfLight --section Occupancy --section MemoryWorkloadAnalysis --section WarpStateStats --section SchedulerStats \
        --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis_Tables /tmp/nt/netdef_bench_igemm_conv "$layer"
    done
  }
  ncuIgemm ncu-igemm '320->320' 'WsWgmmaTileConfigIaLi128ELi160ELi5ELb1ELb1E' 'WsWgmmaTileConfigI6__halfLi128ELi160ELi5ELb1ELb1E' \
    'WsWgmmaTileConfigI6__halfLi128ELi160ELi5ELb1ELb0E' 'WgmmaTileConfigI6__halfLi3ELi0'
  # The im2col 128x160 and 128x256 tiles (int8) on the 256-channel layer, which both cover exactly.
  ncuIgemm ncu-igemm256 '256->256' 'WsWgmmaTileConfigIaLi128ELi160ELi5ELb1ELb1E' 'WsWgmmaTileConfigIaLi128ELi256ELi4ELb1ELb1E'
fi
[ -z "$NCU" ] && echo "== ncu-n32 skipped (no ncu on this machine)" >> "$LOGS/summary.log"
echo "total $(( $(date +%s) - START )) s" >> "$LOGS/summary.log"
tar -czf "$OUT/logs.tgz" -C "$LOGS" .
cat "$LOGS/summary.log"
