#!/usr/bin/env python3
"""Print the tensor Grad-CAM would explain in an ONNX CNN.

Usage: python3 bench/gradcam_layer.py MODEL.onnx

Prints one JSON line: {"name": tensor name, "shape": [N, C, H, W]}.
bench.py runs this in its own process: loading a model's weights in the
benchmark's process would raise its peak RSS, which a child inherits at
fork/exec and which would then show up in every later child's measured RSS.
"""

import json
import sys

import onnx

# Ops whose output can be the Grad-CAM layer (the end of a conv block).
CAM_LAYER_OPS = {"Relu", "Clip", "Conv"}


def gradcam_layer(model):
    """The tensor Grad-CAM would explain: the last conv block's output.

    Walks back from the first graph output along each node's first (data)
    input, through the head (Gemm, Flatten, global or plain pooling,
    Softmax), and returns (name, shape) of the first Relu, Clip or Conv
    output that has 4 dimensions and H*W > 1, with shapes from ONNX shape
    inference. E.g. ResNet's last relu_out (7x7), VGG-16's last ReLU (14x14,
    before the final MaxPool), SqueezeNet's classifier ReLU (13x13).
    """
    graph = onnx.shape_inference.infer_shapes(onnx.load(model)).graph
    producer = {out: node for node in graph.node for out in node.output}
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in [*graph.value_info, *graph.output]}
    name = graph.output[0].name
    while name in producer:
        shape = shapes.get(name, [])
        if producer[name].op_type in CAM_LAYER_OPS and len(shape) == 4 and shape[2] * shape[3] > 1:
            return name, shape
        name = producer[name].input[0]
    raise ValueError(f"{model}: no Relu, Clip or Conv output with 4 dims and H*W > 1 "
                     "feeds the classifier head")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[2])
    name, shape = gradcam_layer(sys.argv[1])
    print(json.dumps({"name": name, "shape": shape}))


if __name__ == "__main__":
    main()
