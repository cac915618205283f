import { describe, expect, it } from 'vitest';
import { NetdefError } from '../../common/errors.js';
import { GraphBuilder } from '../../dsl/builder.js';
import { makeGraph } from '../../dsl/ir/graph.js';
import { verifyGraph } from '../../dsl/ir/verify.js';

function expectDslError(fn: () => unknown, code: string, ...fragments: string[]): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NetdefError);
    expect((e as NetdefError).code).toBe(code);
    for (const f of fragments) expect((e as Error).message).toContain(f);
    return;
  }
  throw new Error('expected an error');
}

describe('GraphBuilder', () => {
  it('names layers by module path and weights by state_dict path', () => {
    const b = new GraphBuilder('t');
    const x = b.input('images', 'float32', ['batch', 3, 32, 32]);
    const m = b.root().list('model').at(2);
    const y = m.list('m').at(0).child('cv1').child('conv').conv2d(x, { outChannels: 8, kernel: 3 });
    const seq = m.list('cv2').at(1).sequential().at(0);
    const z = seq.child('conv').conv2d(y, { outChannels: 4, kernel: 1 });
    b.output('out', z);
    const g = b.build({ model: 't' });
    const convs = g.nodes.filter((n) => n.kind === 'Convolution');
    expect(convs.map((n) => n.name)).toEqual(['/model.2/m.0/cv1/conv/Conv', '/model.2/cv2.1/cv2.1.0/conv/Conv']);
    expect(convs.map((n) => n.kind === 'Convolution' && n.weight.name)).toEqual(['model.2.m.0.cv1.conv.weight', 'model.2.cv2.1.0.conv.weight']);
    expect(convs[0]!.outputs[0]!.type.shape).toEqual(['batch', 8, 32, 32]);
  });

  it('adds _1, _2 to repeated layer names as ONNX exporters do', () => {
    const b = new GraphBuilder('t');
    const x = b.input('x', 'float32', [1, 2, 4, 4]);
    const m = b.root().child('model.22');
    const a = m.concat([x, x], 1);
    const c = m.concat([a, x], 1);
    b.output('y', c);
    expect(b.build({ model: 't' }).nodes.map((n) => n.name)).toEqual(['x', '/model.22/Concat', '/model.22/Concat_1', 'y']);
  });

  it('infers shapes through stride, padding, split, reshape with a symbolic batch', () => {
    const b = new GraphBuilder('t');
    const m = b.root();
    const x = b.input('x', 'float32', ['batch', 3, 64, 48]);
    const y = m.conv2d(x, { outChannels: 16, kernel: 3, stride: 2 });
    expect(y.type.shape).toEqual(['batch', 16, 32, 24]);
    const [p, q] = m.split(y, [4, 12], 1);
    expect(q!.type.shape).toEqual(['batch', 12, 32, 24]);
    expect(m.reshape(p!, ['batch', 4, -1]).type.shape).toEqual(['batch', 4, 768]);
    expect(m.maxPool(y, { kernel: 5, stride: 1, padding: 2 }).type.shape).toEqual(['batch', 16, 32, 24]);
    expect(m.upsample(y, 2).type.shape).toEqual(['batch', 16, 64, 48]);
  });

  it('reports a channel mismatch at the layer that made it', () => {
    const b = new GraphBuilder('t');
    const x = b.input('x', 'float32', [1, 16, 8, 8]);
    expectDslError(() => b.root().child('model.3').child('conv').conv2d(x, { inChannels: 32, outChannels: 8, kernel: 3 }),
      'ERR_DSL_SHAPE', '/model.3/conv/Conv', '32 input channels', 'has 16');
  });

  it('reports concatenation of incompatible shapes, naming the layer and both shapes', () => {
    const b = new GraphBuilder('t');
    const a = b.input('a', 'float32', ['batch', 16, 80, 80]);
    const c = b.input('c', 'float32', ['batch', 32, 40, 40]);
    expectDslError(() => b.root().child('model.11').concat([a, c], 1), 'ERR_DSL_SHAPE', '/model.11/Concat', '[batch, 32, 40, 40]', '[batch, 16, 80, 80]');
  });

  it('reports elementwise operands that do not broadcast and mixed dtypes', () => {
    const b = new GraphBuilder('t');
    const a = b.input('a', 'float32', [1, 16, 8, 8]);
    const c = b.input('c', 'float32', [1, 8, 8, 8]);
    const h = b.input('h', 'float16', [1, 16, 8, 8]);
    expectDslError(() => b.root().add(a, c), 'ERR_DSL_SHAPE', "'/Add'", 'do not broadcast');
    expectDslError(() => b.root().mul(a, h), 'ERR_DSL_SHAPE', 'share a dtype', 'float16');
  });

  it('rejects impossible reshapes and splits', () => {
    const b = new GraphBuilder('t');
    const a = b.input('a', 'float32', ['batch', 6, 4]);
    expectDslError(() => b.root().reshape(a, ['batch', 5, -1]), 'ERR_DSL_SHAPE', 'cannot reshape');
    expectDslError(() => b.root().reshape(a, [6, 4]), 'ERR_DSL_SHAPE', 'symbolic');
    expectDslError(() => b.root().split(a, [2, 3], 1), 'ERR_DSL_SHAPE', 'sum to dimension 1');
  });
});

describe('verifyGraph', () => {
  it('lists dangling inputs and duplicate names', () => {
    const b = new GraphBuilder('t');
    const x = b.input('x', 'float32', [1, 2, 4, 4]);
    const y = b.root().silu(x);
    b.output('y', y);
    const g = b.build({ model: 't' });
    const broken = makeGraph('t', [g.nodes[1]!, g.nodes[0]!, g.nodes[1]!, g.nodes[2]!], g.meta);
    expectDslError(() => verifyGraph(broken), 'ERR_GRAPH_INVALID', "reads 'x'", "duplicate layer name '/Silu'");
  });

  it('detects stale output types', () => {
    const b = new GraphBuilder('t');
    const x = b.input('x', 'float32', [1, 2, 4, 4]);
    b.output('y', b.root().silu(x));
    const g = b.build({ model: 't' });
    const silu = g.nodes[1]!;
    const stale = { ...silu, outputs: [{ name: silu.outputs[0]!.name, type: { dtype: 'float16' as const, shape: [1, 2, 4, 4] } }] };
    expectDslError(() => verifyGraph(makeGraph('t', [g.nodes[0]!, stale, g.nodes[2]!], g.meta)), 'ERR_GRAPH_INVALID', 'stale output types');
  });
});
