/**
 * A small pickle assembler for the crafted regression inputs (scripts/fuzz/regressions.ts):
 * protocol 2 opcodes, a tensor over storage '0' of yolov8n.pt, a persistent id holding itself, a
 * model whose yaml.nc is huge.
 */
const le = (value: number, bytes: number): number[] => {
  let v = BigInt.asUintN(bytes * 8, BigInt(value));
  return Array.from({ length: bytes }, () => {
    const b = Number(v & 0xffn);
    v >>= 8n;
    return b;
  });
};

/** A memo slot the crafted streams use (far from the seed's own). */
const SELF_SLOT = 7;

export class PickleBytes {
  private readonly parts: number[] = [];

  raw(...bytes: number[]): this {
    return this.array(bytes);
  }
  /** Bytes from an array of any length (no spread, so no argument-count limit). */
  array(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.parts.push(bytes[i]!);
    return this;
  }
  proto(): this {
    return this.raw(0x80, 2);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.raw(0x58, ...le(b.length, 4)).array(b);
  }
  int(v: number): this {
    return this.raw(0x4a, ...le(v, 4));
  }
  global(module: string, name: string): this {
    return this.raw(0x63).array(Buffer.from(`${module}\n${name}\n`, 'latin1'));
  }
  emptyTuple(): this {
    return this.raw(0x29);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  ints(values: readonly number[]): this {
    this.raw(0x28);
    for (const v of values) this.int(v);
    return this.raw(0x74);
  }
  long4(size: number): this {
    return this.raw(0x8b, ...le(size, 4)).array(new Uint8Array(size).fill(0x7f));
  }
  /** ['storage', <itself>] as a persistent id. */
  selfPersistentId(): this {
    return this.raw(0x5d, 0x71, SELF_SLOT).str('storage').raw(0x61, 0x68, SELF_SLOT, 0x61, 0x51);
  }
  /** ('storage', torch.HalfStorage, '0', 'cpu', count) loaded through BINPERSID. */
  storage(count: number): this {
    return this.raw(0x28).str('storage').global('torch', 'HalfStorage').str('0').str('cpu').int(count).raw(0x74, 0x51);
  }
  /** _rebuild_tensor_v2(storage, 0, shape, stride, False, {}). */
  tensor(shape: readonly number[], stride: readonly number[], storageCount: number): this {
    this.global('torch._utils', '_rebuild_tensor_v2').raw(0x28);
    return this.storage(storageCount).int(0).ints(shape).ints(stride).raw(0x89, 0x7d, 0x74, 0x52);
  }
  /** {'model': DetectionModel with one parameter and yaml {'nc': nc}}. */
  modelWithYamlNc(nc: number): this {
    this.raw(0x7d).str('model').global('ultralytics.nn.tasks', 'DetectionModel').emptyTuple().raw(0x81, 0x7d, 0x28);
    this.str('_modules').raw(0x7d).str('_parameters').raw(0x7d).str('w').tensor([1], [1], 1).raw(0x73);
    this.str('yaml').raw(0x7d).str('nc').raw(0x8a, 8, ...le(nc, 8)).raw(0x73);
    return this.raw(0x75, 0x62, 0x73);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
