// The replay: walks a typed ir::Graph in order and calls an INetwork (the CUDA engine's builder,
// the TensorRT adapter, or the RecordingNetwork of the tests), one importer per IR kind.
//
// Layer names: every layer is named after its IR node (/model.0/conv/Conv). A node that becomes
// several layers names the extra ones with a '/' suffix, which no Ultralytics module path produces
// (an `_<i>` suffix would collide with the DSL's own `/model.22/Split_1`):
//   Split          one slice per output: <name>/slice_0, <name>/slice_1, ...
//   Convolution    with a fused activation: the activation is <name>/activation
//   ElementWise, MatMul  an input of lower rank is first reshaped with leading 1s (TensorRT needs
//                  equal ranks): <name>/broadcast_<input index>
//   Quantize, Dequantize  the scales constant: <name>/scale
// Names are checked to be unique. Weights keep their parameter names (refit finds them by name);
// a Constant's weights are named after the node.
//
// Every layer's output type (dtype and dims) is compared with the graph's: a network that infers
// something else is an error, not a silent difference. Errors are netdef::Error whose message starts
// "<Kind> layer '<name>': ", as the TypeScript side writes them.
#pragma once

#include "../ir/graph.h"
#include "network.h"

namespace netdef {

void replay(const ir::Graph& graph, INetwork& network);

}  // namespace netdef
