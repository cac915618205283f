/**
 * Batch input buffers recycled between engine calls. A new buffer per batch costs page faults on
 * every call (a 32-image float32 batch at 640 is 157 MB, which malloc and V8 map fresh each time);
 * a buffer goes back to the pool once the engine call that read it has finished.
 */

/** Spare buffers kept per size: the batches in flight at once (engine/detect-stream.ts) and one more. */
const MAX_SPARE_PER_SIZE = 4;

export class InputBuffers {
  private readonly spare = new Map<number, Uint8Array[]>();

  take(bytes: number): Uint8Array {
    return this.spare.get(bytes)?.pop() ?? new Uint8Array(bytes);
  }

  give(buffer: Uint8Array): void {
    const list = this.spare.get(buffer.byteLength) ?? [];
    if (list.length < MAX_SPARE_PER_SIZE) list.push(buffer);
    this.spare.set(buffer.byteLength, list);
  }
}
