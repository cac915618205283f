/**
 * Named precision policies, accepted wherever a policy is (`--precision-policy int8-mixed`).
 * `int8-mixed` is the recipe YOLOv8 INT8 deployments use with TensorRT (and Ultralytics' INT8
 * export discussions recommend): every layer int8 except the first two Conv modules (convolution
 * and SiLU), which see the raw image and the widest ranges, and the DFL (softmax and its 1x1
 * convolution, which reads probabilities), in fp16; whole modules, so no cast sits between a
 * convolution and its activation. The rest of the Detect head's decode (softmax, box arithmetic) computes in
 * float32 under any int8 policy (dsl/passes/apply-precision.ts).
 */
export const POLICY_PRESETS: ReadonlyMap<string, string> = new Map([
  ['int8-mixed', '*:int8,/model.0/:fp16,/model.1/:fp16,/model.22/dfl/:fp16'],
]);
