/**
 * INT8 accuracy on coco128 (not a test): calibrate on the first N images (sorted by file name),
 * evaluate on the others, with fp32 and fp16 evaluated on the same held-out images, and on all 128
 * too. Every calibration method × policy on one backend, as a markdown table on stdout (mAP50-95,
 * mAP50, and the mAP50-95 drop against fp32).
 *
 *   node --import tsx scripts/bench/int8-accuracy.ts --weights yolov8n.pt --data coco128 \
 *     [--calibrate 64] [--methods minmax,percentile,percentile=99.999,entropy] [--policies int8-mixed,int8] \
 *     [--backend onnxruntime] [--out DIR]
 *
 * `--data` is a YOLO-layout folder (images/ and labels/). The held-out split is a folder of links
 * made under --out (default: a temporary folder); the calibration files are written there too.
 */
import { mkdirSync, mkdtempSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { calibrateMethods } from '../../engine/calibrate/calibrate.js';
import { type Calibration, writeCalibration } from '../../engine/calibrate/calibration-file.js';
import { describeMethod, parseCalibrationMethod } from '../../engine/calibrate/methods.js';
import { evaluate } from '../../engine/evaluate.js';
import { parsePolicy } from '../../dsl/precision/policy.js';
import { POLICY_PRESETS } from '../../dsl/precision/presets.js';
import { imagesInFolder } from '../../vision/files.js';

const { values } = parseArgs({ options: {
  weights: { type: 'string' }, data: { type: 'string' }, calibrate: { type: 'string', default: '64' },
  methods: { type: 'string', default: 'minmax,percentile,percentile=99.999,entropy' }, policies: { type: 'string', default: 'int8-mixed,int8' },
  backend: { type: 'string', default: 'onnxruntime' }, out: { type: 'string' },
} });
if (!values.weights || !values.data) throw new Error('--weights and --data are required');
const data = resolve(values.data);
const out = values.out ?? mkdtempSync(join(tmpdir(), 'netdef-int8-'));
const calibrateCount = Number(values.calibrate);
const images = await imagesInFolder(join(data, 'images'));
const heldOut = join(out, 'heldout');
if (!existsSync(heldOut)) {
  mkdirSync(join(heldOut, 'images'), { recursive: true });
  mkdirSync(join(heldOut, 'labels'), { recursive: true });
  for (const image of images.slice(calibrateCount)) {
    const stem = basename(image).replace(/\.[^.]+$/, '');
    symlinkSync(resolve(image), join(heldOut, 'images', basename(image)));
    const label = join(data, 'labels', `${stem}.txt`);
    if (existsSync(label)) symlinkSync(label, join(heldOut, 'labels', `${stem}.txt`));
  }
}
const log = (text: string): boolean => process.stderr.write(`${text}\n`);
log(`calibrating on the first ${calibrateCount} of ${images.length} images of ${data} (${values.backend}) ...`);
const methods = values.methods.split(',').map(parseCalibrationMethod);
const calibrations = await calibrateMethods({ weights: values.weights, data: join(data, 'images'), images: calibrateCount, backend: values.backend }, methods);
for (const c of calibrations) await writeCalibration(join(out, `${c.model}.${describeMethod(c.method)}.calib.json`), c);

async function map(dataset: string, policy: string, calibration?: Calibration): Promise<{ map: number; map50: number }> {
  const text = POLICY_PRESETS.get(policy) ?? (policy.includes(':') ? policy : `*:${policy}`);
  const r = await evaluate(values.weights!, dataset, { backend: values.backend, policy: parsePolicy(text), ...(calibration ? { calibration } : {}) });
  return { map: r.map50_95, map50: r.map50 };
}

const rows: string[] = [];
const splits = [['held-out', heldOut], ['all', data]] as const;
const reference = new Map<string, number>();
for (const [split, dataset] of splits) {
  for (const policy of ['fp32', 'fp16']) {
    const m = await map(dataset, policy);
    if (policy === 'fp32') reference.set(split, m.map);
    rows.push(`| ${split} | ${policy} | — | ${m.map.toFixed(4)} | ${m.map50.toFixed(4)} | ${(m.map - reference.get(split)!).toFixed(4)} |`);
    log(rows.at(-1)!);
  }
  for (const policy of values.policies.split(',')) {
    for (const c of calibrations) {
      const m = await map(dataset, policy, c);
      rows.push(`| ${split} | ${policy} | ${describeMethod(c.method)} | ${m.map.toFixed(4)} | ${m.map50.toFixed(4)} | ${(m.map - reference.get(split)!).toFixed(4)} |`);
      log(rows.at(-1)!);
    }
  }
}
process.stdout.write(`${calibrations[0]!.model} on ${values.backend}, calibrated on ${calibrations[0]!.images} images\n\n`
  + '| images | policy | method | mAP50-95 | mAP50 | Δ mAP50-95 |\n|---|---|---|---|---|---|\n' + `${rows.join('\n')}\n`);
