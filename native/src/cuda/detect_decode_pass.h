// Detect-head fusion: finds the tail of a YOLOv8 Detect head in a recorded program and replaces it
// with one DetectDecode op (ops/detect_decode.cuh), as TensorRT fuses patterns it recognises. The
// region, as the replay records Ultralytics' export graph (models/yolov8/detect.ts):
//
//   per level: y_l [N, no, H, W] -> Shuffle (reshape [N, no, H·W])        no = 4·R + nc
//   Concat (axis 2) -> Slice box [N, 4R, A] and Slice cls [N, nc, A]
//   box -> Shuffle(s) (reshape [N, 4, R, A]) -> Shuffle (transpose [0, 2, 1, 3]) -> Softmax (axis 1)
//       -> Convolution (1x1, R -> 1, no bias) -> Shuffle (reshape [N, 4, A]) -> Slice lt, Slice rb
//   x1y1 = Sub(anchors, lt), x2y2 = Sum(anchors, rb), Div(Sum(x1y1, x2y2), divisor), Sub(x2y2, x1y1)
//   Concat (axis 1) -> Prod(·, strides) ; cls -> Sigmoid ; Concat (axis 1) [boxes, scores] [-> Cast]
//
// with float Casts allowed where a precision policy puts them, as long as the kernel's rounding
// flags reproduce them: after the softmax, the distances, the decoded boxes and the scores, and a
// widening (exact) Cast of the logits. The decode's own elementwise ops must share one dtype
// (the constants' too). Every intermediate tensor must be read only inside the region and not be a
// network output; anything that does not match exactly is left as it is (correct, unfused).
//
// The new op is inserted after the region's last op, named "<common name prefix>DetectDecode"
// (e.g. /model.22/DetectDecode); every op of the region stays in the program, fused into it, so
// layers() still lists them. Its inputs: the levels, then the anchor-point and stride constants;
// its output: the region's output. The DFL convolution's weights stay a weight of the program
// (DetectDecodeAttrs::dflWeight), so refit still reaches them.
//
// Test: native/tests/host/detect_decode_pass.cc (the head as the replay records it, in fp16, fp32
// and a mixed policy; near misses left alone); test/native/cuda-plan.test.ts (the real yolov8n);
// native/tests/ops_detect_decode.cu and the GPU tests (results).
#pragma once

#include "program.h"

namespace netdef::cuda {

// Pure: takes its Program by value (moved through the build's pass chain, so the weights are not
// copied) and returns the rewritten one.
Program fuseDetectDecode(Program p);

}  // namespace netdef::cuda
