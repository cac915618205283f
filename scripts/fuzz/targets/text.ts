/**
 * Fuzz targets for the text formats: COCO instances JSON (seeded from coco128's official
 * annotations: tree and text mutations, deep nesting, many annotations; valid results are also
 * evaluated), YOLO label files (coco128's labels, line mutations) and precision policies (the
 * trtexec and JSON forms, pathological globs, prototype names; matched against yolov8n's layers).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { parsePolicy, precisionOf, unmatchedPatterns } from '../../../dsl/precision/policy.js';
import { buildYolov8 } from '../../../models/yolov8/model.js';
import { cocoJsonFromBytes } from '../../../vision/eval/coco-json.js';
import { evaluateCoco } from '../../../vision/eval/coco-eval.js';
import { labelToBox, parseYoloLabels } from '../../../vision/eval/yolo-labels.js';
import { dataPath } from '../../../test/data.js';
import { type FuzzTarget, describing } from '../harness.js';
import { type Rng, flipBytes, mutateJsonText, mutateJsonTree } from '../mutate.js';

/** Images of coco128 kept in the COCO seed (the whole file is 560 kB; a part keeps cases fast). */
const COCO_SEED_IMAGES = 12;

export function cocoTarget(): FuzzTarget {
  let seed: Record<string, unknown[]> = {};
  let text = '';
  return {
    name: 'coco',
    weight: 1,
    async setup() {
      const full = JSON.parse(readFileSync(dataPath('coco128', 'annotations', 'instances_coco128_train2017.json'), 'utf8')) as Record<string, unknown[]>;
      const images = full.images!.slice(0, COCO_SEED_IMAGES) as { id: number }[];
      const ids = new Set(images.map((im) => im.id));
      seed = { ...full, images, annotations: (full.annotations as { image_id: number }[]).filter((a) => ids.has(a.image_id)) };
      text = JSON.stringify(seed);
    },
    async run(rng) {
      const kind = rng.weighted([[5, 'tree'], [3, 'text'], [1, 'many'], [1, 'flip']] as const);
      let bytes: Uint8Array;
      let what: string;
      if (kind === 'tree') {
        const m = mutateJsonTree(rng, seed);
        bytes = Buffer.from(JSON.stringify(m.value) ?? 'null');
        what = m.what;
      } else if (kind === 'text') {
        const m = mutateJsonText(rng, text);
        bytes = Buffer.from(m.text);
        what = m.what;
      } else if (kind === 'many') {
        const times = rng.pick([10, 100]);
        const annotations = (seed.annotations as { id: number }[]).flatMap((a) => Array.from({ length: times }, (_, i) => ({ ...a, id: a.id * times + i })));
        bytes = Buffer.from(JSON.stringify({ ...seed, annotations }));
        what = `annotations repeated ${times} times`;
      } else {
        bytes = flipBytes(rng, Buffer.from(text));
        what = 'bytes flipped';
      }
      return describing(what, () => {
        const { groundTruth } = cocoJsonFromBytes(bytes, 'fuzz.json');
        const detections = groundTruth.annotations.slice(0, EVALUATED).map((a) => ({ image_id: a.image_id, category_id: a.category_id, bbox: a.bbox, score: 0.5 }));
        if (groundTruth.annotations.length <= EVALUATED * EVALUATED) evaluateCoco(groundTruth, detections);
      });
    },
  };
}

/** Lines of the long label file case. */
const MANY_LINES = 10_000;
/** Annotations evaluated after a COCO file is read (evaluation is not the parser under test). */
const EVALUATED = 50;

const LABEL_LINES = ['0 0.5 0.5 1 1', '79 1 1 0 0', '80 0.5 0.5 0.1 0.1', '-1 0.5 0.5 0.1 0.1', '1.5 0.5 0.5 0.1 0.1', '0 NaN 0.5 0.1 0.1',
  '0 1e309 0.5 0.1 0.1', '0 0.5 0.5 0.1', '0 0.5 0.5 0.1 0.1 0.2 0.3', '0\t0.5\t0.5\t0.1\t0.1', `0 ${'9'.repeat(100_000)} 0.5 0.1 0.1`,
  'x'.repeat(1_000_000), '\u0000\u0001\u0002', '0 0x10 0.5 0.1 0.1', '0 .5 .5 .1 .1', '0 0.5 0.5 0.1 0.1\r', ' '.repeat(100_000)];

export function labelsTarget(): FuzzTarget {
  let seeds: string[] = [];
  return {
    name: 'labels',
    weight: 0.75,
    async setup() {
      const folder = dataPath('coco128', 'labels');
      seeds = readdirSync(folder).slice(0, 32).map((f) => readFileSync(`${folder}/${f}`, 'utf8'));
    },
    async run(rng) {
      const lines = rng.pick(seeds).split('\n');
      const kind = rng.weighted([[3, 'line'], [1, 'many'], [1, 'flip']] as const);
      let text: string;
      let what: string;
      if (kind === 'line') {
        const line = rng.pick(LABEL_LINES);
        lines.splice(rng.int(lines.length + 1), rng.int(2), line);
        text = lines.join('\n');
        what = `line ${JSON.stringify(line.slice(0, 40))}`;
      } else if (kind === 'many') {
        text = Array.from({ length: MANY_LINES }, () => lines[0]).join('\n');
        what = `${MANY_LINES} lines`;
      } else {
        text = Buffer.from(flipBytes(rng, Buffer.from(lines.join('\n')))).toString('latin1');
        what = 'bytes flipped';
      }
      return describing(what, () => parseYoloLabels(text, 'fuzz.txt', 80).forEach((l) => labelToBox(l, 640, 480)));
    },
  };
}

const POLICY_SEEDS = ['*:fp16,/model.22/:fp32', 'fp16', '/model.22/dfl/conv/Conv:fp32', '{"default": "half", "layers": {"/model.22/": "float32"}}',
  '{"default": "fp16", "rules": [{"pattern": "*/dfl/*", "precision": "fp32"}]}'];

function pathologicalPolicy(rng: Rng): string {
  const n = rng.pick([20, 200, 2000]);
  return rng.pick([
    `${'*?'.repeat(n)}x:fp16`, `${'*'.repeat(n)}a${'?'.repeat(n)}:fp16`, `/model.${'*.'.repeat(n)}z:fp32`, `*:constructor`, `*:__proto__`, `*:toString`,
    `${'a'.repeat(100_000)}:fp16`, `${'x:fp16,'.repeat(200_000)}`, '{"default": {"toString": 1}}', '{"default": "fp16", "rules": [{"pattern": {"length": 1}, "precision": "fp32"}]}',
    '{"__proto__": {"default": "int8"}}', '{"layers": {"__proto__": "fp16"}}', '{"rules": {"length": 3}}', `{"default": "fp16", "layers": {${'"a":"fp16",'.repeat(1000)}"b":"fp32"}}`,
  ]);
}

export function policyTarget(): FuzzTarget {
  let layers: string[] = [];
  return {
    name: 'policy',
    weight: 0.75,
    async setup() {
      layers = buildYolov8({ scale: 'n', nc: 80 }).nodes.map((n) => n.name);
    },
    async run(rng) {
      const kind = rng.weighted([[3, 'pathological'], [3, 'text'], [2, 'tree']] as const);
      let text: string;
      let what: string;
      if (kind === 'pathological') {
        text = pathologicalPolicy(rng);
        what = `policy ${JSON.stringify(text.slice(0, 60))}`;
      } else if (kind === 'text') {
        const m = mutateJsonText(rng, rng.pick(POLICY_SEEDS));
        text = m.text;
        what = m.what;
      } else {
        const m = mutateJsonTree(rng, JSON.parse(rng.pick(POLICY_SEEDS.filter((s) => s.startsWith('{')))));
        text = JSON.stringify(m.value) ?? 'null';
        what = m.what;
      }
      return describing(what, () => {
        const policy = parsePolicy(text);
        for (const layer of layers) precisionOf(policy, layer);
        unmatchedPatterns(policy, layers);
      });
    },
  };
}
