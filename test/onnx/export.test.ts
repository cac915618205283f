/**
 * The ONNX exporter's structure: the bytes decode back with the same protobuf types, names carry
 * over (layers, tensors, parameters, graph inputs/outputs), attributes are in ONNX's order, and
 * parameter problems are typed errors naming the layer and the parameter.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import { fromFloat32, type HostTensor } from '../../common/host-tensor.js';
import { paramRef } from '../../dsl/ir/param.js';
import type { TensorValue } from '../../dsl/ir/tensor-type.js';
import { buildOnnxModel, exportOnnx } from '../../dsl/onnx/export.js';
import { decodeModel, type NodeProtoObject } from '../../dsl/onnx/proto.js';
import { GraphAssembler, randomTensor, rng } from './helpers.js';
import { thrownNetdefError } from '../thrown.js';

const rand = rng(1);

function conv(g: GraphAssembler, name: string, x: TensorValue, prefix: string, activation: 'silu' | null = 'silu'): TensorValue {
  return g.value('Convolution', name, {
    outChannels: 4, kernel: [3, 3], stride: [2, 2], padding: [1, 0, 0, 1], dilation: [1, 1], groups: 1,
    weight: paramRef(`${prefix}.weight`, [4, 3, 3, 3], 'conv.weight'), bias: paramRef(`${prefix}.bias`, [4], 'conv.bias'),
    fold: null, activation,
  }, [x]);
}

function convGraph() {
  const g = new GraphAssembler();
  const x = g.input('images', 'float32', ['batch', 3, 8, 8]);
  const y = conv(g, '/model.0/conv/Conv', x, 'model.0.conv');
  g.output('output0', y);
  return g.graph('tiny');
}

function convParams(dtype: 'float32' | 'float16' = 'float32'): Map<string, HostTensor> {
  return new Map([
    ['model.0.conv.weight', randomTensor([4, 3, 3, 3], rand, dtype)],
    ['model.0.conv.bias', randomTensor([4], rand, dtype)],
  ]);
}

function attrInts(node: NodeProtoObject, name: string): number[] | undefined {
  return node.attribute?.find((a) => a.name === name)?.ints;
}

describe('exportOnnx', () => {
  it('decodes back with the same nodes, names, initializers and types', () => {
    const bytes = exportOnnx(convGraph(), convParams(), { producer: 'netdef-test', metadata: { stride: '32', task: 'detect' } });
    const model = decodeModel(bytes);
    expect(model.ir_version).toBe(8);
    expect(model.opset_import).toEqual([{ domain: '', version: 17 }]);
    expect(model.producer_name).toBe('netdef-test');
    expect(model.metadata_props).toEqual([{ key: 'stride', value: '32' }, { key: 'task', value: 'detect' }]);
    const graph = model.graph;
    expect(graph.name).toBe('tiny');
    expect(graph.node.map((n) => [n.name, n.op_type])).toEqual([
      ['/model.0/conv/Conv', 'Conv'],
      ['/model.0/conv/Conv/Sigmoid', 'Sigmoid'],
      ['/model.0/conv/Conv/Mul', 'Mul'],
      ['output0', 'Identity'],
    ]);
    const [convNode, , mul, identity] = graph.node;
    expect(convNode!.input).toEqual(['images', 'model.0.conv.weight', 'model.0.conv.bias']);
    expect(mul!.output).toEqual(['/model.0/conv/Conv_output_0']);
    expect(identity!.output).toEqual(['output0']);
    expect(graph.initializer.map((t) => [t.name, t.dims, t.data_type, t.raw_data?.byteLength])).toEqual([
      ['model.0.conv.weight', [4, 3, 3, 3], 1, 4 * 27 * 4],
      ['model.0.conv.bias', [4], 1, 16],
    ]);
    expect(graph.input).toEqual([{ name: 'images', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'batch' }, { dim_value: 3 }, { dim_value: 8 }, { dim_value: 8 }] } } } }]);
    expect(graph.output[0]!.name).toBe('output0');
    expect(graph.output[0]!.type.tensor_type.shape.dim).toEqual([{ dim_param: 'batch' }, { dim_value: 4 }, { dim_value: 4 }, { dim_value: 4 }]);
    expect(graph.value_info.map((v) => v.name).sort()).toEqual(['/model.0/conv/Conv/Conv_output_0', '/model.0/conv/Conv/Sigmoid_output_0', '/model.0/conv/Conv_output_0']);
  });

  it('writes Conv attributes in ONNX order (pads = top, left, bottom, right)', () => {
    const convNode = buildOnnxModel(convGraph(), convParams()).graph.node[0]!;
    expect(attrInts(convNode, 'pads')).toEqual([1, 0, 0, 1]);
    expect(attrInts(convNode, 'strides')).toEqual([2, 2]);
    expect(attrInts(convNode, 'kernel_shape')).toEqual([3, 3]);
    expect(attrInts(convNode, 'dilations')).toEqual([1, 1]);
    expect(convNode.attribute?.find((a) => a.name === 'group')?.i).toBe(1);
  });

  it('writes a parameter shared by two layers once', () => {
    const g = new GraphAssembler();
    const x = g.input('images', 'float32', [1, 3, 8, 8]);
    const a = conv(g, '/a', x, 'shared', null);
    const b = conv(g, '/b', x, 'shared', null);
    g.output('a', a);
    g.output('b', b);
    const params = new Map([['shared.weight', randomTensor([4, 3, 3, 3], rand)], ['shared.bias', randomTensor([4], rand)]]);
    const model = buildOnnxModel(g.graph(), params);
    expect(model.graph.initializer.map((t) => t.name)).toEqual(['shared.weight', 'shared.bias']);
  });

  it('reports a missing parameter naming the layer and the parameter', () => {
    const params = convParams();
    params.delete('model.0.conv.bias');
    const e = thrownNetdefError(() => exportOnnx(convGraph(), params));
    expect(e.code).toBe(ErrorCode.Backend);
    expect(e.message).toContain("'/model.0/conv/Conv'");
    expect(e.message).toContain("'model.0.conv.bias' is missing");
  });

  it('reports a parameter of the wrong shape or dtype naming both', () => {
    const wrongShape = convParams();
    wrongShape.set('model.0.conv.weight', randomTensor([4, 3, 1, 1], rand));
    const e1 = thrownNetdefError(() => exportOnnx(convGraph(), wrongShape));
    expect(e1.code).toBe(ErrorCode.Backend);
    expect(e1.message).toContain('must be float32[4, 3, 3, 3], found float32[4, 3, 1, 1]');
    const e2 = thrownNetdefError(() => exportOnnx(convGraph(), convParams('float16')));
    expect(e2.message).toContain("'model.0.conv.weight' must be float32[4, 3, 3, 3], found float16[4, 3, 3, 3]");
  });

  it('refuses an unsupported opset and a graph that fails verification', () => {
    expect(thrownNetdefError(() => exportOnnx(convGraph(), convParams(), { opset: 11 })).code).toBe(ErrorCode.InvalidArgument);
    const g = new GraphAssembler();
    g.input('images', 'float32', [1, 3, 8, 8]);
    expect(thrownNetdefError(() => exportOnnx(g.graph(), new Map())).code).toBe(ErrorCode.GraphInvalid);
    expect(decodeModel(exportOnnx(convGraph(), convParams(), { opset: 13 })).ir_version).toBe(7);
  });

  it('writes Reshape targets with 0 for a kept symbol and -1 for a moved one', () => {
    const g = new GraphAssembler();
    const x = g.input('x', 'float32', ['batch', 2, 4]);
    const kept = g.value('Shuffle', '/keep', { reshape: ['batch', 8], perm: null }, [x]);
    const moved = g.value('Shuffle', '/move', { reshape: [8, 'batch'], perm: [1, 0] }, [kept]);
    g.output('y', moved);
    const model = buildOnnxModel(g.graph(), new Map());
    const shapes = new Map(model.graph.initializer.map((t) => [t.name, Array.from(new BigInt64Array(t.raw_data!.slice().buffer), Number)]));
    expect(shapes.get('/keep/shape')).toEqual([0, 8]);
    expect(shapes.get('/move/shape')).toEqual([8, -1]);
    expect(model.graph.node.map((n) => [n.name, n.op_type])).toEqual([
      ['/keep', 'Reshape'], ['/move', 'Reshape'], ['/move/Transpose', 'Transpose'], ['y', 'Identity'],
    ]);
  });

  it('refuses a reshape that moves two symbolic dims, naming the layer', () => {
    const g = new GraphAssembler();
    const x = g.input('x', 'float32', ['a', 'b', 4]);
    g.output('y', g.value('Shuffle', '/swap', { reshape: ['b', 'a', 4], perm: null }, [x]));
    const e = thrownNetdefError(() => exportOnnx(g.graph(), new Map()));
    expect(e.code).toBe(ErrorCode.Backend);
    expect(e.message).toContain("Shuffle layer '/swap'");
  });

  it('exports constants as initializers named by their tensor', () => {
    const g = new GraphAssembler();
    const x = g.input('x', 'float32', [2, 3]);
    const c = g.value('Constant', '/c', { value: fromFloat32(new Float32Array([1, 2, 3]), [3]) });
    g.output('y', g.value('ElementWise', '/add', { op: 'add' }, [x, c]));
    const model = buildOnnxModel(g.graph(), new Map());
    expect(model.graph.initializer.map((t) => t.name)).toEqual(['/c_output_0']);
    expect(model.graph.node[0]!.input).toEqual(['x', '/c_output_0']);
  });
});
