#!/usr/bin/env python3
"""Time one gradient with PyTorch, in its own process.

Usage: python3 bench/torch_worker.py MODEL.onnx INPUT.npy ITERS OUTPUT:INDEX WRT

The ONNX graph is run node by node with torch.nn.functional; only the ops that
make_models.py and the real SqueezeNet 1.1 emit are supported. torch.set_num_threads(2), as onnxruntime.
Weights are plain tensors and the input requires grad, so the forward keeps
what the backward needs but no weight gradient is computed. One warm-up, then
ITERS times: the forward, then torch.autograd.grad of OUTPUT[0, INDEX] with
respect to WRT ('input' means the model input). When OUTPUT comes from a
Softmax, its input (the pre-softmax logit) is seeded, as cnn-viz does.
Prints one JSON line: {"forward_ms": median_ms, "backward_ms": median_ms}.
"""

import json
import math
import statistics
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _padding(a):
    """ONNX pads [top, left, bottom, right]; torch takes symmetric (top, left)."""
    pads = list(a.get("pads", [0, 0, 0, 0]))
    if pads[:2] != pads[2:]:
        raise ValueError(f"asymmetric pads {pads} are not supported")
    return pads[:2]


def _gemm(a, x, w, b):
    """alpha * A' @ B' + beta * C, with A' = A^T if transA and B' = B^T if transB."""
    y = a.get("alpha", 1.0) * ((x.T if a.get("transA") else x) @ (w.T if a.get("transB") else w))
    return y if b is None else y + a.get("beta", 1.0) * b


OPS = {
    "Conv": lambda a, x, w, b=None: F.conv2d(x, w, b, a.get("strides", 1), _padding(a),
                                             a.get("dilations", 1), a.get("group", 1)),
    "Relu": lambda a, x: F.relu(x),
    "Clip": lambda a, x, lo, hi: torch.clamp(x, float(lo), float(hi)),
    "MaxPool": lambda a, x: F.max_pool2d(x, a["kernel_shape"], a.get("strides"), _padding(a),
                                         ceil_mode=bool(a.get("ceil_mode", 0))),
    "Add": lambda a, x, y: x + y,
    "Concat": lambda a, *xs: torch.cat(xs, a["axis"]),
    "GlobalAveragePool": lambda a, x: x.mean((2, 3), keepdim=True),
    "Flatten": lambda a, x: x.reshape(math.prod(x.shape[:a.get("axis", 1)]), -1),
    "Gemm": lambda a, x, w, b=None: _gemm(a, x, w, b),
    "Softmax": lambda a, x: F.softmax(x, a.get("axis", -1)),
    "Dropout": lambda a, x, *rest: x,  # inference
    "Identity": lambda a, x: x,
    "Sigmoid": lambda a, x: torch.sigmoid(x),
    "Mul": lambda a, x, y: x * y,
    "BatchNormalization": lambda a, x, scale, bias, mean, var: F.batch_norm(x, mean, var, scale, bias, False, 0.0,
                                                                            a.get("epsilon", 1e-5)),
    "AveragePool": lambda a, x: F.avg_pool2d(x, a["kernel_shape"], a.get("strides"), _padding(a),
                                             ceil_mode=bool(a.get("ceil_mode", 0)),
                                             count_include_pad=bool(a.get("count_include_pad", 0))),
}


def data_input(graph):
    """The model input's name: the first graph input that is not a weight."""
    weights = {t.name for t in graph.initializer}
    return next(i.name for i in graph.input if i.name not in weights)


def run(graph, weights, x):
    """Every tensor of one forward pass, by name."""
    env = {**weights, data_input(graph): x}
    for node in graph.node:
        env[node.output[0]] = OPS[node.op_type](_attrs(node), *(env[i] for i in node.input))
    return env


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__.strip().splitlines()[2])
    model_path, tensor, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
    output, index = sys.argv[4].rsplit(":", 1)
    graph = onnx.load(model_path).graph
    producer = {o: n for n in graph.node for o in n.output}
    if output in producer and producer[output].op_type == "Softmax":
        output = producer[output].input[0]
    wrt = data_input(graph) if sys.argv[5] == "input" else sys.argv[5]
    torch.set_num_threads(2)
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    x = torch.from_numpy(np.load(tensor)).requires_grad_()

    fwd, bwd = [], []
    for _ in range(iters + 1):  # the first is the warm-up
        t0 = time.perf_counter()
        env = run(graph, weights, x)
        t1 = time.perf_counter()
        torch.autograd.grad(env[output][0, int(index)], [env[wrt]])
        t2 = time.perf_counter()
        fwd.append((t1 - t0) * 1e3)
        bwd.append((t2 - t1) * 1e3)
    print(json.dumps({"forward_ms": statistics.median(fwd[1:]),
                      "backward_ms": statistics.median(bwd[1:])}))


if __name__ == "__main__":
    main()
