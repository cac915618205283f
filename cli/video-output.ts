/**
 * Annotated videos for `detect`: one MP4 per video source in the save folder (`<stem>.mp4`, as
 * Ultralytics names them), frames drawn as they come. A video is finished when the results move on
 * to another source, when it fails (the frames before the failure are kept), or at the end.
 */
import { join } from 'node:path';
import type { Detection } from '../vision/postprocess.js';
import { drawOnPixels, type DrawOptions } from '../vision/draw.js';
import { VideoWriter } from '../vision/video/writer.js';
import type { ItemInfo } from './detect-sources.js';

export class VideoOutputs {
  private current: { readonly path: string; readonly writer: VideoWriter } | undefined;

  constructor(private readonly dir: string, private readonly stemOf: (path: string) => string, private readonly draw: DrawOptions) {}

  async frame(info: ItemInfo, detections: readonly Detection[]): Promise<void> {
    const pixels = info.pixels!;
    if (this.current?.path !== info.path) {
      await this.finish();
      const out = join(this.dir, `${this.stemOf(info.path)}.mp4`);
      this.current = { path: info.path, writer: VideoWriter.open(out, pixels.width, pixels.height, info.fps!) };
    }
    await this.current.writer.write(await drawOnPixels(pixels, detections, this.draw));
  }

  /** Finishes the video being written, if any. */
  async finish(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    await current?.writer.close();
  }

  async abort(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    await current?.writer.abort();
  }
}
