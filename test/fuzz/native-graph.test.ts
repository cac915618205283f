/**
 * Hostile graphs at the addon's boundary (native/src/addon/graph_from_js.cc and the replay): the
 * yolov8n graph with one node or parameter changed (a field set to a wrong type, an edge number,
 * huge dimensions; a field deleted; an unknown or prototype kind; unknown tensor names), handed to
 * recordReplay, which runs host-side. Each case must return or throw an Error with a `code`; a
 * crash kills the worker and fails this file. The ASan/UBSan run of the native code is
 * scripts/fuzz/native-asan.sh (docs/limits.md).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../common/random.js';
import { loadNativeAddon, toNativeGraph } from '../../engine/native/load.js';
import { prepareModel } from '../../engine/prepare.js';
import { Rng } from '../../scripts/fuzz/mutate.js';
import { dataPath } from '../data.js';

const CASES = 1500;
const SEED = 13;
const HOSTILE: readonly unknown[] = [
  null, undefined, -1, 0, 1.5, NaN, Infinity, 2 ** 31, 2 ** 31 - 1, 2 ** 53, -(2 ** 31), 'x', '__proto__', 'constructor', [], {}, [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1],
  [-1, -1], ['batch', 'other'], Array.from({ length: 1000 }, () => 1), new Uint8Array(3), { dtype: 'float32', shape: [2 ** 31 - 1, 2 ** 31 - 1], data: new Uint8Array(4) },
];

type Graph = ReturnType<typeof toNativeGraph>;

function mutate(rng: Rng, graph: Graph): { graph: Graph; what: string } {
  const nodes = [...graph.nodes] as unknown as Record<string, unknown>[];
  const i = rng.int(nodes.length);
  const node = { ...nodes[i]! };
  const kind = rng.weighted([[5, 'field'], [1, 'delete'], [1, 'kind'], [1, 'input'], [1, 'output-shape'], [1, 'param'], [1, 'order']] as const);
  const keys = Object.keys(node);
  let what = `${String(node.name)}: `;
  let params = graph.params;
  if (kind === 'field' || kind === 'delete') {
    const key = rng.pick(keys);
    if (kind === 'delete') delete node[key];
    else node[key] = rng.pick(HOSTILE);
    what += `${kind} ${key}`;
  } else if (kind === 'kind') {
    node.kind = rng.pick(['Nope', '__proto__', 'constructor', 'toString', 'Convolution', 'NMS', 'Split', 'Shuffle']);
    what += `kind ${String(node.kind)}`;
  } else if (kind === 'input') {
    node.inputs = rng.pick([['missing'], [], ['images', 'images', 'images'], Array.from({ length: 100 }, () => 'images')]);
    what += 'inputs';
  } else if (kind === 'output-shape') {
    const outputs = (node.outputs as { name: string; type: { dtype: string; shape: unknown[] } }[]).map((o) => ({ ...o, type: { ...o.type } }));
    const o = outputs[rng.int(outputs.length)];
    if (o) o.type.shape = o.type.shape.map((d) => (rng.chance(0.5) ? rng.pick(HOSTILE) : d));
    node.outputs = outputs;
    what += 'output shape';
  } else if (kind === 'param') {
    const names = Object.keys(params);
    const name = rng.pick(names);
    params = { ...params, [name]: rng.pick(HOSTILE) } as typeof params;
    what = `param ${name}`;
  } else {
    nodes.reverse();
    what = 'nodes reversed';
  }
  nodes[i] = node;
  return { graph: { ...graph, nodes: nodes as unknown as Graph['nodes'], params }, what };
}

describe('hostile graphs at the native boundary', () => {
  let graph: Graph;
  beforeAll(async () => {
    const prepared = await prepareModel({ weights: dataPath('weights', 'yolov8n.pt') });
    graph = toNativeGraph(prepared.graph, prepared.params);
  });

  it(`${CASES} mutated yolov8n graphs: every one replays or throws an Error with a code`, () => {
    const addon = loadNativeAddon();
    const rng = new Rng(seededRandom(SEED));
    const codes: Record<string, number> = {};
    const untyped: string[] = [];
    for (let c = 0; c < CASES; c++) {
      const { graph: g, what } = mutate(rng, graph);
      try {
        addon.recordReplay(g);
        codes.ok = (codes.ok ?? 0) + 1;
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (typeof code === 'string') codes[code] = (codes[code] ?? 0) + 1;
        else untyped.push(`case ${c} (${what}): ${String(e)}`);
      }
    }
    console.log(`native graph fuzz: ${CASES} cases`, codes);
    expect(untyped).toEqual([]);
  });
});
