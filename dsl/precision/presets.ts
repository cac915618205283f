/**
 * Named precision policies, accepted wherever a policy is (`--precision-policy int8-mixed`).
 * `int8-mixed` is the recipe YOLOv8 INT8 deployments use with TensorRT (and Ultralytics' INT8
 * export discussions recommend): every layer int8 except the first two Conv modules (convolution
 * and SiLU), which see the raw image and the widest ranges, and the DFL (softmax and its 1x1
 * convolution, which reads probabilities), in fp16; whole modules, so no cast sits between a
 * convolution and its activation. The rest of the Detect head's decode (softmax, box arithmetic) computes in
 * float32 under any int8 policy (dsl/passes/apply-precision.ts).
 *
 * `fp16-fp32-decode` is the accuracy-safe fp16 policy: everything fp16 except the box decode (the
 * anchor arithmetic and stride scaling after the DFL, and the concats that assemble the boxes),
 * whose coordinates reach 640 px where fp16's spacing is 0.25-0.5 px. It keeps the Detect head's
 * convolutions in fp16, where `*:fp16,/model.22/:fp32` runs them in fp32 (docs/precision.md has
 * what each costs and keeps, measured).
 */
export const POLICY_PRESETS: ReadonlyMap<string, string> = new Map([
  ['int8-mixed', '*:int8,/model.0/:fp16,/model.1/:fp16,/model.22/dfl/:fp16'],
  ['fp16-fp32-decode', '*:fp16,/model.22/Sub:fp32,/model.22/Add:fp32,/model.22/Div:fp32,/model.22/Mul:fp32,/model.22/Concat_4:fp32,/model.22/Concat_5:fp32'],
]);
