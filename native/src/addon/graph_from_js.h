// The JS NativeGraph (engine/native/addon-types.ts: {name, nodes, params}, nodes being the plain IR
// nodes of dsl/ir/nodes/*.ts) converted into an ir::Graph, every field validated. A mistake is a
// netdef::Error(ERR_INVALID_ARGUMENT) naming the layer: "Convolution layer '/model.0/conv/Conv':
// parameter 'model.0.conv.weight' is missing (not in graph.params and no init)".
//
// Conversions beyond a field-by-field copy:
//   - a string dimension ('batch') is ir::kBatch; the graph may use one symbol only, besides the
//     symbol each NMS layer has for its data-dependent row count, which is ir::kDataDependent;
//   - Shuffle.reshape (which may hold 'batch' and -1) is taken from the node's output type (undoing
//     the permutation when there is one), so the C++ side never resolves a -1;
//   - negative axes (Concat, Split, Softmax, Quantize) are normalised against the output rank;
//   - a ParamRef is looked up in graph.params (own properties only) and falls back to its `init`;
//     its shape must be the ref's and its byte length dtype x shape; Convolution.fold is ignored
//     (the parameters are already folded);
//   - a Constant's value becomes a Param named after the node.
//
// Parameter memory (ParamMemory): View points the Params into the JS Uint8Arrays, valid only while
// the caller is on the JS thread with the graph object alive (recordReplay, which is synchronous).
// Copy gives the OwnedGraph its own copy of every byte, so the graph can go to a worker thread
// while JS is free to drop or detach its buffers (buildCudaEngine).
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../ir/graph.h"

namespace netdef::addon {

enum class ParamMemory { View, Copy };

// A graph with the memory its parameters point into. Not copyable (Params point into `buffers`);
// moving keeps every address (a moved std::vector keeps its heap block).
struct OwnedGraph {
  OwnedGraph() = default;
  OwnedGraph(const OwnedGraph&) = delete;
  OwnedGraph& operator=(const OwnedGraph&) = delete;
  OwnedGraph(OwnedGraph&&) = default;
  OwnedGraph& operator=(OwnedGraph&&) = default;

  ir::Graph graph;
  std::vector<std::vector<uint8_t>> buffers;  // ParamMemory::Copy only
};

OwnedGraph graphFromJs(const Napi::Value& value, ParamMemory memory);

class FieldReader;

// One HostTensor-shaped object ({dtype, shape, data}) as a Param named `name`: dtype known, byte
// length dtype x shape, shape equal to `expected` when given; its bytes viewed or copied into `buffers`.
ir::Param paramFromJs(const FieldReader& tensor, const std::string& name, const std::vector<int64_t>* expected, ParamMemory memory,
                      std::vector<std::vector<uint8_t>>& buffers);

// Parameters by name ({[name]: {dtype, shape, data}}, as NativeGraph.params) with copies of their
// bytes, so they can go to a worker thread (refit). `where` starts every message.
struct OwnedParams {
  std::vector<ir::Param> params;
  std::vector<std::vector<uint8_t>> buffers;
};
OwnedParams paramsFromJs(const Napi::Value& value, const std::string& where);

}  // namespace netdef::addon
