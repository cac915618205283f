/**
 * Named precision policies, accepted wherever a policy is (`--precision-policy int8-mixed`).
 * `int8-mixed` is the recipe YOLOv8 INT8 deployments use with TensorRT (and Ultralytics' INT8
 * export discussions recommend): every layer int8 except the first two convolutions, which see the
 * raw image and the widest ranges, and the DFL's 1x1 convolution, which reads softmax
 * probabilities, in fp16. The rest of the Detect head's decode (softmax, box arithmetic) computes in
 * float32 under any int8 policy (dsl/passes/apply-precision.ts).
 */
export const POLICY_PRESETS: ReadonlyMap<string, string> = new Map([
  ['int8-mixed', '*:int8,/model.0/conv/Conv:fp16,/model.1/conv/Conv:fp16,/model.22/dfl/conv/Conv:fp16'],
]);
