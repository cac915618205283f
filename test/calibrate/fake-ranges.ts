/**
 * Made-up activation ranges for tests of the int8 passes: every tensor calibration measures
 * (engine/calibrate/probes.ts) gets `amax`, and the image input 1 (its real range), as a
 * calibration file's content would name them.
 */
import type { Graph } from '../../dsl/ir/graph.js';
import { calibrationTensors } from '../../engine/calibrate/probes.js';

export function fakeRanges(graph: Graph, amax = 2): Map<string, number> {
  return new Map(calibrationTensors(graph).map((t) => [t, t === 'images' ? 1 : amax]));
}
