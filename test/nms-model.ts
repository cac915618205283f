/**
 * yolov8n from the official yolov8n.pt with NMS in the graph (models/yolov8/nms.ts), typed as
 * engine/prepare.ts types a graph (batch norms folded, a precision policy applied) with its
 * effective parameters. prepareModel has no NMS option, so the tests that need one build it here.
 */
import type { HostTensor } from '../common/host-tensor.js';
import type { Graph } from '../dsl/ir/graph.js';
import { verifyGraph } from '../dsl/ir/verify.js';
import { applyPrecision } from '../dsl/passes/apply-precision.js';
import { foldBatchNorm } from '../dsl/passes/fold-batch-norm.js';
import { FP32_POLICY, type PrecisionPolicy } from '../dsl/precision/policy.js';
import { DEFAULT_CLASSES } from '../engine/prepare.js';
import { buildYolov8 } from '../models/yolov8/model.js';
import type { Yolov8NmsOptions } from '../models/yolov8/nms.js';
import { checkWeights, materializeParams } from '../weights/bind.js';
import { loadWeights } from '../weights/load.js';
import { dataPath } from './data.js';

export interface NmsModel {
  readonly graph: Graph;
  readonly params: Map<string, HostTensor>;
}

export async function yolov8nWithNms(nms: Yolov8NmsOptions, policy: PrecisionPolicy = FP32_POLICY): Promise<NmsModel> {
  const store = await loadWeights(dataPath('weights', 'yolov8n.pt'));
  const source = buildYolov8({ scale: 'n', nc: store.info.nc ?? DEFAULT_CLASSES, nms });
  checkWeights(source, store);
  const graph = verifyGraph(applyPrecision(foldBatchNorm(source), policy));
  return { graph, params: materializeParams(graph, store) };
}
