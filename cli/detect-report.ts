/**
 * What `detect` prints, as Ultralytics' predict prints it: a line per image
 * (`image 1/2 bus.jpg: 640x480 4 persons, 1 bus, 12.3ms`, the input shape and the inference time),
 * then `Speed: ... per image at shape (1, 3, H, W)`, the total with images per second, the time
 * spent building engines apart, and where the results were saved.
 */
import type { ImageResult, StageTimes } from '../engine/detector.js';
import type { Detection } from '../vision/postprocess.js';

/** "4 persons, 1 bus" as Ultralytics writes it: by class id, an 's' for more than one whatever the name. */
export function countSummary(detections: readonly Pick<Detection, 'classId' | 'label'>[]): string {
  const counts = new Map<number, { label: string; n: number }>();
  for (const d of detections) counts.set(d.classId, { label: d.label, n: (counts.get(d.classId)?.n ?? 0) + 1 });
  return [...counts].sort((a, b) => a[0] - b[0]).map(([, { label, n }]) => `${n} ${label}${n > 1 ? 's' : ''}`).join(', ') || '(no detections)';
}

/** `where`: Ultralytics' prefix, `image 1/2` or `video 1/1 (frame 3)`. */
export function imageLine(r: ImageResult, where: string, verbose: boolean): string {
  const [h, w] = r.inputShape;
  const t = r.times;
  const stages = verbose ? ` (decode ${t.decode.toFixed(1)}ms, letterbox ${t.letterbox.toFixed(1)}ms, postprocess ${t.nms.toFixed(1)}ms${t.build > 0 ? `, engine build ${t.build.toFixed(0)}ms apart` : ''})` : '';
  return `${where} ${r.image}: ${h}x${w} ${countSummary(r.detections)}, ${t.inference.toFixed(1)}ms${stages}`;
}

/** Sums of the stage times over the images done. */
export class SpeedTotals {
  private readonly sum = { decode: 0, letterbox: 0, inference: 0, nms: 0, build: 0 };
  private images = 0;
  private lastShape: readonly [number, number] | undefined;

  /** `batch`: images per engine call, shown in the shape as Ultralytics does. */
  constructor(private readonly batch = 1) {}

  add(r: ImageResult): void {
    for (const k of Object.keys(this.sum) as (keyof StageTimes)[]) this.sum[k] += r.times[k];
    this.images++;
    this.lastShape = r.inputShape;
  }

  get count(): number {
    return this.images;
  }

  /** Per-image averages in milliseconds, and the build time in total. */
  averages(): StageTimes {
    const n = Math.max(this.images, 1);
    return { decode: this.sum.decode / n, letterbox: this.sum.letterbox / n, inference: this.sum.inference / n, nms: this.sum.nms / n, build: this.sum.build };
  }

  /** The Speed line and the totals line; `wallMs` is the whole run, builds included. */
  lines(wallMs: number): string[] {
    if (this.images === 0) return [];
    const a = this.averages();
    const [h, w] = this.lastShape!;
    const work = wallMs - a.build;
    return [
      `Speed: ${a.decode.toFixed(1)}ms decode, ${a.letterbox.toFixed(1)}ms preprocess, ${a.inference.toFixed(1)}ms inference, ${a.nms.toFixed(1)}ms postprocess per image at shape (${this.batch}, 3, ${h}, ${w})`,
      `${this.images} image${this.images > 1 ? 's' : ''} in ${(work / 1000).toFixed(2)} s, ${((this.images * 1000) / Math.max(work, 1e-3)).toFixed(1)} images/s end to end`
        + `${a.build > 0 ? `; engine builds ${(a.build / 1000).toFixed(2)} s apart` : ''}`,
    ];
  }
}
