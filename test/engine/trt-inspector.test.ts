import { describe, expect, it } from 'vitest';
import { NetdefError } from '../../common/errors.js';
import { dtypeFromFormat, namesFromLayerName, parseInspectorJson, precisionByGraphLayer } from '../../engine/backends/trt-inspector.js';

// Hand-written samples in the format IEngineInspector::getEngineInformation(kJSON) documents
// (see the header of engine/backends/trt-inspector.ts), with netdef's layer names.

const CONV_SILU = '/model.0/conv/Conv + PWN(PWN(/model.0/act/Silu), /model.0/act/Silu/mul)';
const FP16_HWC8 = 'Channel major FP16 format where channel % 8 == 0';
const FP32_LINEAR = 'Row major linear FP32';

function tensor(name: string, format: string): Record<string, unknown> {
  return { Name: name, Location: 'Device', Dimensions: [1, 16, 320, 320], 'Format/Datatype': format };
}

const detailed = JSON.stringify({
  Layers: [
    {
      Name: `Reformatting CopyNode for Input Tensor 0 to ${CONV_SILU}`,
      LayerType: 'Reformat',
      Inputs: [tensor('images', FP32_LINEAR)],
      Outputs: [tensor(`Reformatted Input Tensor 0 to ${CONV_SILU}`, 'Channel major FP16 format where channel % 4 == 0')],
      ParameterType: 'Reformat',
      Origin: 'REFORMAT',
      TacticValue: '0x00000000000003e8',
      StreamId: 0,
      Metadata: '',
    },
    {
      Name: CONV_SILU,
      LayerType: 'CaskConvolution',
      Inputs: [tensor(`Reformatted Input Tensor 0 to ${CONV_SILU}`, 'Channel major FP16 format where channel % 4 == 0')],
      Outputs: [tensor('/model.0/act/Silu_output_0', FP16_HWC8)],
      ParameterType: 'Convolution',
      Kernel: [3, 3],
      Weights: { Type: 'Half', Count: 432 },
      TacticName: 'sm80_xmma_fprop_implicit_gemm_f16f16_f16f16_f16_nhwckrsc_nhwc_tilesize64x32x64_stage5',
      TacticValue: '0x1a2b3c4d5e6f7081',
      StreamId: 0,
      Metadata: '',
    },
    {
      Name: '/model.22/dfl/conv/Conv',
      LayerType: 'CaskConvolution',
      Inputs: [tensor('/model.22/dfl/Softmax_output_0', FP32_LINEAR)],
      Outputs: [tensor('/model.22/dfl/conv/Conv_output_0', FP32_LINEAR)],
      ParameterType: 'Convolution',
      TacticName: 'sm80_xmma_fprop_implicit_gemm_tf32f32_tf32f32_f32_nchwkcrs_nchw',
      TacticValue: '0x0011223344556677',
      StreamId: 0,
      Metadata: '',
    },
  ],
  Bindings: ['images', 'output0'],
});

function formatError(json: string): NetdefError {
  try {
    parseInspectorJson(json);
  } catch (e) {
    expect(e).toBeInstanceOf(NetdefError);
    return e as NetdefError;
  }
  throw new Error(`parsed without error: ${json}`);
}

describe('parseInspectorJson (ProfilingVerbosity::kDETAILED)', () => {
  const [reformat, conv, fp32] = parseInspectorJson(detailed);

  it('reads a fused conv + SiLU in FP16 with a channel-major format', () => {
    expect(conv).toEqual({
      name: CONV_SILU,
      kind: 'CaskConvolution',
      dtype: 'float16',
      kernel: 'sm80_xmma_fprop_implicit_gemm_f16f16_f16f16_f16_nhwckrsc_nhwc_tilesize64x32x64_stage5',
      timeMs: 0,
      contains: ['/model.0/conv/Conv', '/model.0/act/Silu', '/model.0/act/Silu/mul'],
      outputFormats: [FP16_HWC8],
    });
  });

  it('gives a reformat TensorRT inserted no netdef layer, its output dtype and its tactic value', () => {
    expect(reformat!.kind).toBe('Reformat');
    expect(reformat!.contains).toEqual([]);
    expect(reformat!.dtype).toBe('float16');
    expect(reformat!.kernel).toBe('0x00000000000003e8');
  });

  it('reads an FP32 layer', () => {
    expect(fp32!.dtype).toBe('float32');
    expect(fp32!.contains).toEqual(['/model.22/dfl/conv/Conv']);
    expect(fp32!.outputFormats).toEqual([FP32_LINEAR]);
  });

  it('maps each contained layer to the dtype of its engine layer, leaving reformats out', () => {
    const byLayer = precisionByGraphLayer([reformat!, conv!, fp32!]);
    expect(Object.fromEntries(byLayer)).toEqual({
      '/model.0/conv/Conv': 'float16',
      '/model.0/act/Silu': 'float16',
      '/model.0/act/Silu/mul': 'float16',
      '/model.22/dfl/conv/Conv': 'float32',
    });
  });

  it('folds the extra TensorRT layers of a netdef layer into it when given the graph layers', () => {
    const byLayer = precisionByGraphLayer(parseInspectorJson(detailed), ['/model.0/conv/Conv', '/model.0/act/Silu', '/model.22/dfl/conv/Conv', '/model.22/Concat']);
    expect(Object.fromEntries(byLayer)).toEqual({
      '/model.0/conv/Conv': 'float16',
      '/model.0/act/Silu': 'float16',
      '/model.22/dfl/conv/Conv': 'float32',
    });
  });
});

describe('Myelin layers and Metadata', () => {
  const myelin = JSON.stringify({
    Layers: [
      {
        Name: '{ForeignNode[/model.22/Split.../model.22/Concat_5]}',
        LayerType: 'Myelin',
        Inputs: [tensor('/model.22/Concat_output_0', 'Half')],
        Outputs: [tensor('output0', FP32_LINEAR)],
        TacticName: '__myelin_graph_0',
        StreamId: 0,
        Metadata: '/model.22/Split\u001e/model.22/dfl/Reshape\u001e/model.22/dfl/Softmax\u001f/model.22/Concat_5',
      },
      {
        Name: '{ForeignNode[/model.9/m/MaxPool.../model.9/Concat]}',
        LayerType: 'Myelin',
        Outputs: [tensor('/model.9/Concat_output_0', 'Half')],
        TacticName: '__myelin_graph_1',
        Metadata: '',
      },
      {
        Name: '/model.22/dfl/Softmax_myl0_3',
        LayerType: 'kgen',
        Outputs: [tensor('__myln_k_arg__bb1_7', 'Float')],
        TacticName: '__myl_Softmax_0x5d1c',
        Metadata: '',
      },
      {
        Name: '__myl_SigMul_myl0_4',
        LayerType: 'kgen',
        Outputs: [tensor('__myln_k_arg__bb1_8', 'Half')],
        TacticName: '__myl_SigMul_0x77e0',
        Metadata: '',
      },
      {
        Name: 'conv_fused',
        LayerType: 'CaskConvolution',
        Outputs: [tensor('y', 'Thirty-two wide channel vectorized row major Int8 format')],
        TacticValue: '0x0000000000000007',
        Metadata: '[ONNX Layer: /model.0/conv/Conv]\u001f[ONNX Layer: /model.0/act/Sigmoid | Local Function: silu]',
      },
    ],
    Bindings: ['images', 'output0'],
  });
  const [foreign, foreignNoMetadata, subLayer, generated, onnx] = parseInspectorJson(myelin);

  it('lists every layer of a Myelin region from its Metadata', () => {
    expect(foreign!.kind).toBe('Myelin');
    expect(foreign!.kernel).toBe('__myelin_graph_0');
    expect(foreign!.dtype).toBe('float32');
    expect(foreign!.contains).toEqual(['/model.22/Split', '/model.22/dfl/Reshape', '/model.22/dfl/Softmax', '/model.22/Concat_5']);
  });

  it('falls back to the first and last layers a ForeignNode name gives', () => {
    expect(foreignNoMetadata!.contains).toEqual(['/model.9/m/MaxPool', '/model.9/Concat']);
    expect(foreignNoMetadata!.dtype).toBe('float16');
  });

  it('reads Myelin sub-layers: the layer before "_myl", none for a generated kernel, kgen type names', () => {
    expect(subLayer!.contains).toEqual(['/model.22/dfl/Softmax']);
    expect(subLayer!.dtype).toBe('float32');
    expect(generated!.contains).toEqual([]);
    expect(generated!.dtype).toBe('float16');
  });

  it('unwraps the ONNX parser\'s "[ONNX Layer: ...]" metadata items', () => {
    expect(onnx!.contains).toEqual(['/model.0/conv/Conv', '/model.0/act/Sigmoid']);
    expect(onnx!.dtype).toBe('int8');
  });

  it('lets the last engine layer containing a layer decide its dtype', () => {
    const byLayer = precisionByGraphLayer([foreign!, subLayer!]);
    expect(byLayer.get('/model.22/dfl/Softmax')).toBe('float32');
    expect(byLayer.get('/model.22/Split')).toBe('float32');
    const reversed = precisionByGraphLayer([subLayer!, { ...foreign!, dtype: 'float16' }]);
    expect(reversed.get('/model.22/dfl/Softmax')).toBe('float16');
  });
});

describe('ProfilingVerbosity::kLAYER_NAMES_ONLY', () => {
  const namesOnly = JSON.stringify({
    Layers: [`Reformatting CopyNode for Input Tensor 0 to ${CONV_SILU}`, CONV_SILU, '/model.1/conv/Conv + PWN(PWN(/model.1/act/Silu), /model.1/act/Silu/mul)'],
    Bindings: ['images', 'output0'],
  });

  it('gives names and contained layers only', () => {
    const layers = parseInspectorJson(namesOnly);
    expect(layers.map((l) => l.name)).toEqual(JSON.parse(namesOnly).Layers);
    expect(layers.every((l) => l.kind === '' && l.dtype === '' && l.kernel === '' && l.outputFormats.length === 0)).toBe(true);
    expect(layers[0]!.contains).toEqual([]);
    expect(layers[2]!.contains).toEqual(['/model.1/conv/Conv', '/model.1/act/Silu', '/model.1/act/Silu/mul']);
  });

  it('reports the layers with an unknown dtype', () => {
    const byLayer = precisionByGraphLayer(parseInspectorJson(namesOnly), ['/model.0/conv/Conv', '/model.0/act/Silu', '/model.1/conv/Conv', '/model.1/act/Silu']);
    expect(Object.fromEntries(byLayer)).toEqual({ '/model.0/conv/Conv': '', '/model.0/act/Silu': '', '/model.1/conv/Conv': '', '/model.1/act/Silu': '' });
  });
});

describe('formats', () => {
  it.each([
    [FP32_LINEAR, 'float32'],
    ['Row major linear FP16 format', 'float16'],
    [FP16_HWC8, 'float16'],
    ['Two wide channel vectorized row major FP16 format', 'float16'],
    ['Four wide channel vectorized row major Int8 format', 'int8'],
    ['Channel major INT8 format where channel % 16 == 0', 'int8'],
    ['Row major linear Int32', 'int32'],
    ['Row major linear Int64 format', 'int64'],
    ['Row major linear BOOL', 'bool'],
    ['Row major linear UInt8 format', 'uint8'],
    ['Row major linear BFloat16 format', 'bfloat16'],
    ['Row major linear FP32 format (kLINEAR)', 'float32'],
    ['Float', 'float32'],
    ['Half', 'float16'],
  ])('reads %s as %s', (format, dtype) => {
    expect(dtypeFromFormat(format)).toBe(dtype);
  });

  it.each([
    'Row major linear FP8 format',
    'Row major linear FP4 format (kLINEAR)',
    'Int4',
    'UInt16',
    'Unknown format',
    'None',
    'N/A',
    'Sixty-four wide interleaved tensor memory layout',
    '',
  ])('gives no dtype for %j', (format) => {
    expect(dtypeFromFormat(format)).toBe('');
  });

  it('gives dtype \'\' for a layer whose output format is unknown or missing', () => {
    const layers = parseInspectorJson(JSON.stringify({
      Layers: [
        { Name: '/model.2/cv1/conv/Conv', LayerType: 'CaskConvolution', Outputs: [tensor('a', 'Row major linear FP8 format')], TacticValue: '0x1' },
        { Name: '/model.2/cv2/conv/Conv', LayerType: 'CaskConvolution', Outputs: [{ Name: 'b', Location: 'Device', Dimensions: [-1, 32, 80, 80] }], TacticValue: '0x2' },
      ],
    }));
    expect(layers.map((l) => l.dtype)).toEqual(['', '']);
    expect(layers.map((l) => l.outputFormats)).toEqual([['Row major linear FP8 format'], ['']]);
  });
});

describe('layer names', () => {
  it.each([
    ['/model.0/conv/Conv', ['/model.0/conv/Conv']],
    ['/model.2/m.0/cv1/conv/Conv + PWN(PWN(/model.2/m.0/cv1/act/Silu), /model.2/m.0/cv1/act/Silu/mul) + /model.2/m.0/add', ['/model.2/m.0/cv1/conv/Conv', '/model.2/m.0/cv1/act/Silu', '/model.2/m.0/cv1/act/Silu/mul', '/model.2/m.0/add']],
    ['Reformatting CopyNode for Output Tensor 0 to /model.9/Concat', []],
    ['(Unnamed Layer* 14) [Shuffle]', ['(Unnamed Layer* 14) [Shuffle]']],
    ['/model.22/Split\u001e/model.22/Concat_5', ['/model.22/Split', '/model.22/Concat_5']],
  ])('finds the layers in %j', (name, contains) => {
    expect(namesFromLayerName(name)).toEqual(contains);
  });
});

describe('precisionByGraphLayer', () => {
  const layer = (dtype: string, contains: string[]) => ({ name: contains.join(' + '), kind: 'k', dtype, kernel: '', timeMs: 0, contains, outputFormats: [] });

  it('prefers the engine layer holding the netdef layer itself over one holding only its extra parts', () => {
    const layers = [layer('float16', ['/model.0/act/Silu']), layer('float32', ['/model.0/act/Silu/mul'])];
    expect(precisionByGraphLayer(layers, ['/model.0/act/Silu']).get('/model.0/act/Silu')).toBe('float16');
    expect(precisionByGraphLayer([layers[1]!], ['/model.0/act/Silu']).get('/model.0/act/Silu')).toBe('float32');
  });

  it('never replaces a known dtype with an unknown one', () => {
    const byLayer = precisionByGraphLayer([layer('float16', ['/model.0/conv/Conv']), layer('', ['/model.0/conv/Conv'])]);
    expect(byLayer.get('/model.0/conv/Conv')).toBe('float16');
  });
});

describe('malformed engine information', () => {
  it.each([
    ['not JSON', 'not json {', 'expected JSON'],
    ['an empty string', '', 'expected JSON'],
    ['an array', '[]', '"Layers" array'],
    ['no Layers', '{"Bindings": []}', '"Layers" array'],
    ['Layers not an array', '{"Layers": {"Name": "a"}}', '"Layers" array'],
    ['a layer that is a number', '{"Layers": [42]}', 'layer 0: expected an object'],
    ['a layer without a Name', '{"Layers": [{"LayerType": "Reformat"}]}', 'layer 0: expected a string "Name"'],
    ['Outputs not an array', '{"Layers": [{"Name": "a", "Outputs": "FP16"}]}', '"Outputs" to be an array'],
    ['a tensor that is not an object', '{"Layers": [{"Name": "a", "Inputs": ["x"]}]}', 'Inputs[0]: expected a tensor object'],
    ['a format that is not a string', '{"Layers": [{"Name": "a", "Outputs": [{"Name": "y", "Format/Datatype": 16}]}]}', '"Format/Datatype" to be a string'],
    ['Metadata that is not a string', '{"Layers": [{"Name": "a", "Metadata": ["b"]}]}', '"Metadata" to be a string'],
  ])('refuses %s with ERR_ENGINE_FORMAT', (_what, json, fragment) => {
    const err = formatError(json);
    expect(err.code).toBe('ERR_ENGINE_FORMAT');
    expect(err.message).toContain('TensorRT engine information');
    expect(err.message).toContain(fragment);
  });
});
