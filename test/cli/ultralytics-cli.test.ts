/**
 * The CLI as a user of Ultralytics and trtexec meets it (issue 11): one test per finding. Each
 * failed before its fix: a wrong score with exit 0, silent Ultralytics differences, options
 * accepted and ignored, help, output, and the options people reach for daily.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { boxIou } from '../../vision/boxes.js';
import { dataPath, REPO_ROOT } from '../data.js';
import { netdef, netdefIn } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'netdef-ucli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const WEIGHTS = dataPath('weights', 'yolov8n.pt');
const BUS = dataPath('images', 'bus.jpg');
const ZIDANE = dataPath('images', 'zidane.jpg');
const ULTRALYTICS = JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/ultralytics/ultralytics-8.0.232.json'), 'utf8')) as {
  predict_rect_pt: Record<string, { image: string; boxes: number[][]; scores: number[]; classes: number[] }[]>;
  val_pt: Record<string, { map50_95: number; map50: number; precision: number; recall: number }>;
};

interface JsonImage { image: string; width: number; height: number; detections: { box: [number, number, number, number]; score: number; classId: number }[] }

/** coco128 laid out as Ultralytics ships it (images/train2017, labels/train2017) with a data.yaml; folders linked, not copied. */
function ultralyticsLayout(): { root: string; yaml: string } {
  const root = join(dir, 'coco128-ultralytics');
  mkdirSync(join(root, 'images'), { recursive: true });
  mkdirSync(join(root, 'labels'), { recursive: true });
  symlinkSync(dataPath('coco128', 'images'), join(root, 'images', 'train2017'));
  symlinkSync(dataPath('coco128', 'labels'), join(root, 'labels', 'train2017'));
  const names = readFileSync(dataPath('coco.names'), 'utf8').trim().split('\n').map((n, i) => `  ${i}: ${n}`).join('\n');
  const yaml = join(dir, 'coco128.yaml');
  writeFileSync(yaml, `path: ${root}\ntrain: images/train2017\nval: images/train2017\nnames:\n${names}\n`);
  return { root, yaml };
}

describe('1. eval on Ultralytics layouts gives the real score, never -1 with exit 0', () => {
  it('data.yaml and images/train2017 + labels/train2017 give the flat folder\'s mAP, P and R as Ultralytics val', async () => {
    const { root, yaml } = ultralyticsLayout();
    const [viaYaml, viaSplit, flat] = await Promise.all([yaml, root, dataPath('coco128')].map((data) => netdef('eval', '--weights', WEIGHTS, '--data', data, '--json')));
    for (const r of [viaYaml!, viaSplit!, flat!]) expect(r.code, r.stderr).toBe(0);
    const [a, b, c] = [viaYaml!, viaSplit!, flat!].map((r) => JSON.parse(r.stdout) as { map50_95: number; map50: number; precision: number; recall: number; images: number; format: string; mode: string });
    expect(a!.images).toBe(128);
    expect([a!.format, a!.mode]).toEqual(['yolo', 'rect']);
    expect([a!.map50_95, a!.map50, a!.precision, a!.recall]).toEqual([c!.map50_95, c!.map50, c!.precision, c!.recall]);
    expect([b!.map50_95, b!.map50]).toEqual([c!.map50_95, c!.map50]);
    const ref = ULTRALYTICS.val_pt.yolov8n!;
    expect(Math.abs(a!.map50_95 - ref.map50_95)).toBeLessThanOrEqual(0.003);
    expect(Math.abs(a!.precision - ref.precision)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(a!.recall - ref.recall)).toBeLessThanOrEqual(0.005);
  });

  it('a folder without images fails with ERR_DATASET and a non-zero exit', async () => {
    const root = join(dir, 'no-images');
    mkdirSync(join(root, 'images', 'val2017'), { recursive: true });
    mkdirSync(join(root, 'labels', 'val2017'), { recursive: true });
    const res = await netdef('eval', '--weights', WEIGHTS, '--data', root);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERR_DATASET');
    expect(res.stdout).not.toContain('-1.0000');
  });
});

describe('2. defaults are Ultralytics\' and differences are printed', () => {
  it('detect on a .pt letterboxes to the minimal rectangle and finds what Ultralytics predict finds', async () => {
    const res = await netdef('detect', BUS, ZIDANE, '--weights', WEIGHTS, '--json', '--no-save');
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as JsonImage[];
    out.forEach((image, i) => {
      const ref = ULTRALYTICS.predict_rect_pt.yolov8n![i]!;
      expect(image.detections.map((d) => d.classId).sort()).toEqual([...ref.classes].sort());
      for (const d of image.detections) {
        const k = ref.boxes.findIndex((b, j) => ref.classes[j] === d.classId && boxIou(b as [number, number, number, number], d.box) >= 0.99);
        expect(k, `${image.image} class ${d.classId}`).toBeGreaterThanOrEqual(0);
        expect(Math.abs(ref.scores[k]! - d.score)).toBeLessThanOrEqual(0.005);
      }
    });
    const text = await netdef('detect', BUS, '--weights', WEIGHTS, '--no-save');
    expect(text.stdout).toContain('640x480 4 persons, 1 bus, 1 stop sign');
  });

  it('eval reads the YOLO labels by default and says so when it scores against the COCO JSON', async () => {
    const subset = join(dir, 'both-formats');
    mkdirSync(join(subset, 'images'), { recursive: true });
    mkdirSync(join(subset, 'labels'), { recursive: true });
    mkdirSync(join(subset, 'annotations'), { recursive: true });
    for (const f of readdirSync(dataPath('coco128', 'images')).sort()) copyFileSync(dataPath('coco128', 'images', f), join(subset, 'images', f));
    for (const f of readdirSync(dataPath('coco128', 'labels'))) copyFileSync(dataPath('coco128', 'labels', f), join(subset, 'labels', f));
    copyFileSync(dataPath('coco128', 'annotations', 'instances_coco128_train2017.json'), join(subset, 'annotations', 'instances.json'));
    const yolo = await netdef('eval', '--weights', WEIGHTS, '--data', subset, '--square', '--conf', '0.25', '--quiet');
    expect(yolo.stdout).toContain('(yolo ground truth');
    expect(yolo.stderr).not.toContain('COCO JSON');
    const coco = await netdef('eval', '--weights', WEIGHTS, '--data', subset, '--format', 'coco', '--square', '--conf', '0.25', '--quiet');
    expect(coco.stdout).toContain('(coco ground truth');
    expect(coco.stderr).toContain('note: ground truth from the COCO JSON');
  });
});

describe('3. no option is accepted and ignored', () => {
  const engineFile = join(dir, 'cpu.engine');
  it.each([
    [['--backend', 'cuda'], 'is a onnxruntime engine'],
    [['--imgsz', '320'], 'built for 640x640'],
    [['--weights', WEIGHTS], '--engine and --weights cannot be used together'],
    [['--precision-policy', '*:fp16'], 'precisions are fixed at build time'],
    [['--threads', '2', '--backend', 'cuda'], '--threads sets the CPU backend'],
  ])('detect --engine with %j is refused', async (extra, message) => {
    if (!existsSync(engineFile)) expect((await netdef('build', '--weights', WEIGHTS, '-o', engineFile)).code).toBe(0);
    const res = await netdef('detect', BUS, '--engine', engineFile, '--no-save', ...extra);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERR_INVALID_ARGUMENT');
    expect(res.stderr).toContain(message);
  });

  it.each([['--nms'], ['--data', 'x'], ['--model', 'yolov8n'], ['--dtype', 'float16'], ['-v']])('detect %s is refused, naming it', async (...option) => {
    const res = await netdef('detect', BUS, '--weights', WEIGHTS, '--no-save', ...option);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`${option[0]} is not an option of detect`);
  });

  it('detect --timing-cache on the CPU backend is refused, naming the backends that read it', async () => {
    const res = await netdef('detect', BUS, '--weights', WEIGHTS, '--no-save', '--timing-cache', 'c');
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('ERR_INVALID_ARGUMENT');
    expect(res.stderr).toContain('--timing-cache is read by the cuda and tensorrt backends');
  });

  it('eval honours --conf', async () => {
    const data = dataPath('coco128');
    const [low, high] = await Promise.all(['0.001', '0.5'].map((conf) => netdef('eval', '--weights', WEIGHTS, '--data', data, '--square', '--conf', conf, '--json')));
    const [l, h] = [low!, high!].map((r) => JSON.parse(r.stdout) as { detections: number });
    expect(h!.detections).toBeLessThan(l!.detections / 4);
  });
});

describe('4. help and argument errors', () => {
  it('detect --help has a line per option, precision policy included', async () => {
    const res = await netdef('detect', '--help');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/--precision-policy P\s+per-layer precision/);
    expect(res.stdout).toMatch(/--save-txt\s+write YOLO-format labels/);
    expect(res.stdout.split('\n').filter((l) => l.trimStart().startsWith('--') || l.trimStart().startsWith('-q')).length).toBeGreaterThan(20);
  });

  it('a misspelt option gets a suggestion and no raw parser message', async () => {
    const res = await netdef('detect', BUS, '--wieghts', WEIGHTS);
    expect(res.stderr).toContain('unknown option --wieghts for detect; did you mean --weights?');
    expect(res.stderr).not.toContain("'");
  });

  it.each([
    [['--precision-policy', 'policy.jsn'], 'ERR_FILE_NOT_FOUND', 'precision policy file policy.jsn not found'],
    [['--precision-policy', '*:fp16,/model.99/:fp32'], 'ERR_PRECISION_POLICY', "'/model.99/' match no layer"],
    [['--precision-policy', '/dev/zero'], 'ERR_INVALID_ARGUMENT', 'not a regular file'],
    [['--imgsz', '99999968'], 'ERR_MODEL_SPEC', 'at most 16384'],
    [['--int8'], 'ERR_CALIBRATION', 'netdef calibrate'],
    [['--precision-policy', 'int8-mixed'], 'ERR_CALIBRATION', 'gives int8 to'],
    [['--int8', '--calib', 'missing.calib.json'], 'ERR_FILE_NOT_FOUND', 'calibration file missing.calib.json'],
    [['--half', '--precision-policy', 'fp32'], 'ERR_INVALID_ARGUMENT', 'both set the precision'],
  ])('inspect %j fails with %s', async (extra, code, message) => {
    const res = await netdef('inspect', '--model', 'yolov8n', ...extra);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(code);
    expect(res.stderr).toContain(message);
  });

  it('--precision-policy fp16 means *:fp16, as --half does', async () => {
    for (const args of [['--precision-policy', 'fp16'], ['--half']]) {
      const res = await netdef('inspect', '--model', 'yolov8n', '--json', ...args);
      expect(res.code, res.stderr).toBe(0);
      const layers = (JSON.parse(res.stdout) as { layers: { kind: string; dtype: string }[] }).layers.filter((l) => l.kind === 'Convolution');
      expect(new Set(layers.map((l) => l.dtype))).toEqual(new Set(['float16']));
    }
  });
});

describe('5. output', () => {
  it('prints a line per image, the speed line and the total, with the build apart; saves where it says', async () => {
    const cwd = join(dir, 'cwd');
    mkdirSync(cwd);
    const first = await netdefIn(cwd, 'detect', BUS, ZIDANE, '--weights', WEIGHTS);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^image 1\/2 .*bus\.jpg: 640x480 4 persons, 1 bus, 1 stop sign, [\d.]+ms$/m);
    expect(first.stdout).toMatch(/^Speed: [\d.]+ms decode, [\d.]+ms preprocess, [\d.]+ms inference, [\d.]+ms postprocess per image at shape \(1, 3, \d+, \d+\)$/m);
    expect(first.stdout).toMatch(/^2 images in [\d.]+ s, [\d.]+ images\/s end to end; engine builds [\d.]+ s apart$/m);
    expect(first.stderr).toContain(`Results saved to ${join('runs', 'detect', 'predict')}`);
    const second = await netdefIn(cwd, 'detect', BUS, '--weights', WEIGHTS, '--quiet');
    expect(second.stderr).toContain(`Results saved to ${join('runs', 'detect', 'predict2')}`);
    expect(second.stdout).not.toContain('image 1/1');
  });

  it('keeps each picture\'s format and gives inputs with one name distinct outputs', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    for (const d of [a, b]) mkdirSync(d);
    copyFileSync(BUS, join(a, 'bus.jpg'));
    copyFileSync(BUS, join(b, 'bus.jpg'));
    const png = join(dir, 'zidane.png');
    spawnSync(process.execPath, ['-e', `require('sharp')(${JSON.stringify(ZIDANE)}).png().toFile(${JSON.stringify(png)})`], { cwd: REPO_ROOT });
    const out = join(dir, 'saved');
    const res = await netdef('detect', join(a, 'bus.jpg'), join(b, 'bus.jpg'), png, '--weights', WEIGHTS, '--save-dir', out, '--save-txt', '--save-conf');
    expect(res.code, res.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['bus.jpg', 'bus_2.jpg', 'labels', 'zidane.png']);
    const lines = readFileSync(join(out, 'labels', 'bus.txt'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(line).toMatch(/^\d+( (0|1|0\.\d+|\d\.\d+e-\d\d)){5}$/);
  });

  it('export-onnx without weights warns that the model is untrained', async () => {
    const res = await netdef('export-onnx', '--model', 'yolov8n', '-o', join(dir, 'random.onnx'));
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('random (untrained) weights');
  });

  it('npm inside the repository warns about no unknown project config', () => {
    const res = spawnSync('npm', ['run', '-s', 'netdef', '--', '--version'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(res.status).toBe(0);
    expect(res.stderr).not.toContain('Unknown project config');
  });
});

describe('7. options reached for daily', () => {
  it('quoted globs are sources, and failed images are in the JSON', async () => {
    const folder = join(dir, 'glob');
    mkdirSync(folder);
    copyFileSync(BUS, join(folder, 'one.jpg'));
    copyFileSync(ZIDANE, join(folder, 'two.jpg'));
    writeFileSync(join(folder, 'three.jpg'), 'not an image');
    copyFileSync(BUS, join(folder, 'skip.png'));
    const res = await netdef('detect', join(folder, 't*.jpg'), join(folder, 'o?e.jpg'), '--weights', WEIGHTS, '--json', '--no-save');
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout) as { image: string; error?: { code: string } }[];
    expect(out.map((o) => [o.image.split('/').pop(), o.error?.code ?? 'ok'])).toEqual([['three.jpg', 'ERR_IMAGE_DECODE'], ['two.jpg', 'ok'], ['one.jpg', 'ok']]);
  });

  it.each([
    [['--device', 'cpu', '--backend', 'cuda'], '--device cpu runs the onnxruntime backend'],
    [['--device', '0', '--backend', 'onnxruntime'], '--device 0 is a GPU'],
    [['--device', 'gpu'], '--device must be cpu or a GPU index'],
    [['--save-conf'], '--save-conf adds scores to the --save-txt labels'],
  ])('detect %j is refused', async (extra, message) => {
    const res = await netdef('detect', BUS, '--weights', WEIGHTS, '--no-save', ...extra);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(message);
  });

  it('--device cpu and --threads run the CPU backend; --device 0 needs a GPU (typed error here)', async () => {
    const cpu = await netdef('detect', BUS, '--weights', WEIGHTS, '--device', 'cpu', '--threads', '1', '--no-save', '--quiet');
    expect(cpu.code, cpu.stderr).toBe(0);
    const gpu = await netdef('detect', BUS, '--weights', WEIGHTS, '--device', '0', '--no-save');
    if (gpu.code !== 0) expect(gpu.stderr).toMatch(/ERR_NO_CUDA_DEVICE|ERR_BACKEND/);
  });

  it('benchmark prints trtexec\'s summary on the CPU backend', async () => {
    const res = await netdef('benchmark', '--model', 'yolov8n', '--imgsz', '320', '--iterations', '5', '--warmup', '1');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/Host latency .*min [\d.]+ ms, mean [\d.]+ ms, median [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms/);
    expect(res.stdout).toMatch(/Throughput: [\d.]+ qps/);
    expect(res.stdout).toContain('GPU compute time: none (the onnxruntime backend runs on the CPU)');
    const profile = await netdef('benchmark', '--model', 'yolov8n', '--dump-profile');
    expect(profile.stderr).toContain('--dump-profile needs a GPU backend');
  });

  it('detect uses the rows an engine built with --nms selected', async () => {
    const file = join(dir, 'nms.engine');
    expect((await netdef('build', '--weights', WEIGHTS, '--nms', '-o', file)).code).toBe(0);
    const res = await netdef('detect', BUS, ZIDANE, '--engine', file, '--json', '--no-save');
    expect(res.code, res.stderr).toBe(0);
    const host = await netdef('detect', BUS, ZIDANE, '--weights', WEIGHTS, '--square', '--json', '--no-save');
    const [inEngine, onHost] = [res, host].map((r) => JSON.parse(r.stdout) as JsonImage[]);
    inEngine!.forEach((image, i) => {
      // Per-class NMS keeps every box the host's best-class NMS keeps (it may keep a box for a second class too).
      for (const d of onHost![i]!.detections) {
        expect(image.detections.some((e) => e.classId === d.classId && boxIou(e.box, d.box) >= 0.99 && Math.abs(e.score - d.score) < 1e-4)).toBe(true);
      }
    });
    const refused = await netdef('detect', BUS, '--engine', file, '--iou', '0.5', '--no-save');
    expect(refused.stderr).toContain('this engine runs NMS inside with iou 0.7');
  });
});
