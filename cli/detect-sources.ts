/**
 * What `detect` feeds the detector, in order: a picture's path, or a video's (or stream's) frames
 * decoded by ffmpeg, every --vid-stride-th. Each item's description (which source, which frame, and
 * a frame's pixels for the annotated video) is queued as the item is produced; results come back in
 * the same order, so `shift()` pairs each result with its item. A video that cannot be opened or
 * ends early becomes one failed item after the frames it gave.
 */
import { ErrorCode, NetdefError } from '../common/errors.js';
import { SourceFailure, type StreamInput } from '../engine/detector.js';
import type { Source } from '../vision/files.js';
import type { RgbImage } from '../vision/image.js';
import { videoFrames } from '../vision/video/frames.js';

export interface ItemInfo {
  readonly kind: 'image' | 'video';
  readonly path: string;
  /** 1-based index among the sources of its kind (Ultralytics' `image 2/5`, `video 1/1`). */
  readonly index: number;
  readonly of: number;
  /** Video frames: the frame number, the stream's rate and the pixels. */
  readonly frame?: number;
  readonly fps?: number;
  readonly pixels?: RgbImage;
}

export class SourceFeed {
  private readonly infos: ItemInfo[] = [];

  constructor(private readonly sources: readonly Source[], private readonly vidStride: number) {}

  get hasVideo(): boolean {
    return this.sources.some((s) => s.kind === 'video');
  }

  get imageCount(): number {
    return this.sources.filter((s) => s.kind === 'image').length;
  }

  async *inputs(): AsyncGenerator<StreamInput> {
    const of = { image: this.imageCount, video: this.sources.length - this.imageCount };
    const seen = { image: 0, video: 0 };
    for (const source of this.sources) {
      const index = ++seen[source.kind];
      const base = { kind: source.kind, path: source.path, index, of: of[source.kind] };
      if (source.kind === 'image') {
        this.infos.push(base);
        yield source.path;
        continue;
      }
      try {
        for await (const f of videoFrames(source.path, { vidStride: this.vidStride })) {
          this.infos.push({ ...base, frame: f.frame, fps: f.fps, pixels: f.image });
          yield f.image;
        }
      } catch (e) {
        this.infos.push(base);
        yield new SourceFailure(source.path, e instanceof NetdefError ? e : new NetdefError(ErrorCode.VideoDecode, `${source.path}: ${(e as Error).message}`));
      }
    }
  }

  /** The description of the oldest item whose result has not been taken yet. */
  shift(): ItemInfo {
    const info = this.infos.shift();
    if (!info) throw new NetdefError(ErrorCode.Backend, 'detect: a result came back for no item (the pipeline lost its order)');
    return info;
  }
}

/** Ultralytics' line prefix: `image 2/5` or `video 1/1 (frame 3)`. */
export function itemLabel(info: ItemInfo): string {
  return info.frame === undefined ? `${info.kind} ${info.index}/${info.of}` : `video ${info.index}/${info.of} (frame ${info.frame})`;
}
