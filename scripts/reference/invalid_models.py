#!/usr/bin/env python3
"""A corpus of invalid ONNX models, one per refusal category, and onnxruntime's verdict on each.

Usage: python3 scripts/reference/invalid_models.py OUTDIR

Writes OUTDIR/invalid/NAME.onnx and OUTDIR/invalid/invalid.json: per model its category, the
node the refusal should name (or null), words the message should contain, and whether
onnxruntime refuses it when loading (`ort_refuses`, with its message). The Swift test checks
that cnn-viz refuses every model that onnxruntime refuses, naming the file and the node.
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT


def info(name, shape, kind=F):
    return helper.make_tensor_value_info(name, kind, shape)


def model(nodes, inputs, outputs, inits=(), opset=17, ir=8, opset_import=True):
    graph = helper.make_graph(nodes, "invalid", inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)] if opset_import else [])
    m.ir_version = ir
    if not opset_import:
        del m.opset_import[:]
    return m


def cases():
    x, y = info("x", [1, 3, 8, 8]), info("y", [1, 3, 8, 8])
    w = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    relu = helper.make_node("Relu", ["x"], ["y"], name="relu1")
    yield "redefines_graph_input", "tensor names", "relu_over_x", ["already defined by a graph input"], model(
        [helper.make_node("Relu", ["y"], ["x"], name="relu_over_x"), helper.make_node("Relu", ["x"], ["y"], name="relu0")], [x], [y])
    yield "redefines_initializer", "tensor names", "relu_over_w", ["already defined by an initializer"], model(
        [helper.make_node("Relu", ["x"], ["w"], name="relu_over_w"), helper.make_node("Identity", ["x"], ["y"], name="id")], [x], [y], [w])
    yield "redefines_node_output", "tensor names", "relu_b", ["already defined by node 'relu_a'"], model(
        [helper.make_node("Relu", ["x"], ["y"], name="relu_a"), helper.make_node("Relu", ["x"], ["y"], name="relu_b")], [x], [y])
    yield "concat_without_axis", "required attributes", "concat", ["requires the attribute 'axis'"], model(
        [helper.make_node("Concat", ["x", "x"], ["y"], name="concat")], [x], [info("y", [2, 3, 8, 8])])
    yield "lrn_without_size", "required attributes", "lrn", ["requires the attribute 'size'"], model(
        [helper.make_node("LRN", ["x"], ["y"], name="lrn")], [x], [y])
    yield "axis_as_float", "attribute types", "concat", ["'axis' must be an int, found a float"], model(
        [helper.make_node("Concat", ["x", "x"], ["y"], name="concat", axis=1.0)], [x], [info("y", [1, 6, 8, 8])])
    yield "unknown_attribute", "attribute types", "relu1", ["has no attribute 'alpha'"], model(
        [helper.make_node("Relu", ["x"], ["y"], name="relu1", alpha=0.1)], [x], [y])
    yield "float_gather_indices", "type constraints", "gather", ["must be an integer tensor", "float"], model(
        [helper.make_node("Gather", ["x", "idx"], ["y"], name="gather", axis=1)], [x], [info("y", [1, 2, 8, 8])],
        [numpy_helper.from_array(np.array([0.0, 1.0], np.float32), "idx")])
    yield "float_reshape_shape", "type constraints", "reshape", ["must be an integer tensor"], model(
        [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")], [x], [info("y", [1, 192])],
        [numpy_helper.from_array(np.array([1.0, 192.0], np.float32), "shape")])
    yield "float_constant_of_shape", "type constraints", "fill", ["must be an integer tensor"], model(
        [helper.make_node("ConstantOfShape", ["shape"], ["z"], name="fill"), helper.make_node("Add", ["x", "z"], ["y"], name="add")],
        [x], [y], [numpy_helper.from_array(np.array([1.0, 3.0, 8.0, 8.0], np.float32), "shape")])
    yield "relu_with_two_inputs", "input and output counts", "relu2", ["takes exactly 1 inputs, found 2"], model(
        [helper.make_node("Relu", ["x", "x"], ["y"], name="relu2")], [x], [y])
    yield "relu_with_two_outputs", "input and output counts", "relu2", ["gives exactly 1 outputs, found 2"], model(
        [helper.make_node("Relu", ["x"], ["y", "z"], name="relu2")], [x], [y])
    yield "kernel_shape_contradicts_weight", "attributes against weights", "conv", ["kernel_shape [5, 5] contradicts the weight"], model(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[5, 5], pads=[2, 2, 2, 2])], [x], [info("y", [1, 4, 8, 8])], [w])
    yield "op_newer_than_opset", "op versions", "hswish", ["HardSwish does not exist in opset 13", "first appears in opset 14"], model(
        [helper.make_node("HardSwish", ["x"], ["y"], name="hswish")], [x], [y], opset=13)
    yield "cycle", "cycles", "loop_a", ["cycle through node 'loop_a' (Add), node 'loop_b' (Relu)"], model(
        [helper.make_node("Add", ["x", "b"], ["a"], name="loop_a"), helper.make_node("Relu", ["a"], ["b"], name="loop_b"),
         helper.make_node("Identity", ["a"], ["y"], name="out")], [x], [y])
    yield "undefined_input", "undefined tensors", "add", ["'ghost' is neither a graph input, an initializer, nor produced by any node"], model(
        [helper.make_node("Add", ["x", "ghost"], ["y"], name="add")], [x], [y])
    yield "slice_duplicate_axes", "attributes against inputs", "slice", ["name an axis twice"], model(
        [helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["y"], name="slice")], [x], [info("y", [1, 3, 4, 8])],
        [numpy_helper.from_array(np.array(v, np.int64), n) for v, n in [([0, 0], "starts"), ([4, 4], "ends"), ([2, 2], "axes")]])
    yield "opset_99", "versions", None, ["opset 99", "expected 1 to"], model([relu], [x], [y], opset=99)
    yield "no_opset_import", "versions", None, ["imports no opset of the default ONNX domain"], model([relu], [x], [y], opset_import=False)
    yield "ir_99", "versions", None, ["IR version 99", "expected 3 to"], model([relu], [x], [y], ir=99)


def main():
    out = Path(sys.argv[1]).resolve() / "invalid"
    out.mkdir(parents=True, exist_ok=True)
    records = []
    for name, category, node, fragments, m in cases():
        path = out / f"{name}.onnx"
        onnx.save(m, path)
        try:
            ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            refuses, message = False, ""
        except Exception as error:  # onnxruntime's load-time refusal
            refuses, message = True, str(error).splitlines()[0][:300]
        records.append({"name": name, "file": str(path), "category": category, "node": node, "fragments": fragments,
                        "ort_refuses": refuses, "ort_message": message})
        print(f"{name:34} onnxruntime {'refuses' if refuses else 'LOADS'}: {message[:110]}")
    (out / "invalid.json").write_text(json.dumps({"models": records}, indent=1) + "\n")


if __name__ == "__main__":
    main()
