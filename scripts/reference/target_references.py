#!/usr/bin/env python3
"""Reference data for the target kinds (class, region, element, detection, similarity,
cotangent) and for NHWC inputs: models built here, and what an independent tool says.

Usage: python3 scripts/reference/target_references.py OUTDIR [--shared DIR]

Writes OUTDIR/targets/targets.json and the models and arrays it names:
  nhwc       SqueezeNet 1.1 fp32 (../shared) wrapped as tf2onnx writes an NHWC export: an
             input [1, 224, 224, 3] and a Transpose with perm [0, 3, 1, 2] in front of the
             original graph. The Swift test checks that it explains exactly as the original.
  detection  two small YOLO-style heads with seeded weights, one per layout:
             yolov5 [1, 256, 7] = (cx, cy, w, h, objectness, 2 class scores) per anchor, and
             yolov8 [1, 6, 256] = (cx, cy, w, h, 2 class scores) by field. The anchor whose box
             best overlaps a given box is found in float64 NumPy, and the gradient of its score
             (class · objectness for yolov5, the class for yolov8) with respect to the input is
             taken by central finite differences of a float64 NumPy forward pass.
Everything is seeded and deterministic. Nothing is copied into the repository.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO_ROOT = Path(__file__).resolve().parents[2]


def save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.asarray(array, np.float32))
    return str(path)


# ---------------------------------------------------------------- NHWC

def nhwc_case(out, shared):
    source = shared / "data" / "models" / "squeezenet1.1_fp32_from_winml_fp16.onnx"
    model = onnx.load(source)
    weights = {i.name for i in model.graph.initializer}
    position, data = next((k, i) for k, i in enumerate(model.graph.input) if i.name not in weights)
    original = data.name
    inner = original + "_nchw"
    for node in model.graph.node:
        node.input[:] = [inner if name == original else name for name in node.input]
    model.graph.node.insert(0, helper.make_node("Transpose", [original], [inner], perm=[0, 3, 1, 2], name="input_transpose"))
    dims = [d.dim_value for d in data.type.tensor_type.shape.dim]
    model.graph.input[position].CopyFrom(helper.make_tensor_value_info(original, TensorProto.FLOAT, [dims[0], dims[2], dims[3], dims[1]]))
    onnx.checker.check_model(model)
    path = out / "squeezenet_nhwc.onnx"
    onnx.save(model, path)
    return {"nchw": str(source), "nhwc": str(path), "layer": "fire9/concat_1"}


# ---------------------------------------------------------------- detection heads

SIDE, HIDDEN = 16, 8


def conv2d(x, w, b, pad):
    """x [C, H, W], w [O, C, k, k] -> [O, H', W'] (stride 1), float64."""
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    h, wd = xp.shape[1] - k + 1, xp.shape[2] - k + 1
    patches = np.stack([xp[:, i:i + h, j:j + wd] for i in range(k) for j in range(k)], axis=1)  # C, k·k, h, w
    return np.einsum("ocp,cphw->ohw", w.reshape(w.shape[0], w.shape[1], k * k), patches, optimize=True) + b[:, None, None]


def head_forward(x, weights, layout):
    """The head in float64: [A, fields] for yolov5, [fields, A] for yolov8."""
    w1, b1, w2, b2, scale = weights
    hidden = np.maximum(conv2d(x[0], w1, b1, 1), 0)
    raw = 1 / (1 + np.exp(-conv2d(hidden, w2, b2, 0)))  # fields, H, W
    fields = raw.reshape(raw.shape[0], -1) * scale[:, None]
    return fields.T if layout == "yolov5" else fields


def head_model(path, weights, layout):
    w1, b1, w2, b2, scale = weights
    fields = w2.shape[0]
    anchors = SIDE * SIDE
    inits = [numpy_helper.from_array(a.astype(np.float32), n) for a, n in
             [(w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"), (scale.reshape(fields, 1), "scale")]]
    inits.append(numpy_helper.from_array(np.array([1, fields, anchors], np.int64), "flat"))
    nodes = [
        helper.make_node("Conv", ["images", "w1", "b1"], ["hidden"], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("Relu", ["hidden"], ["hidden_relu"], name="relu1"),
        helper.make_node("Conv", ["hidden_relu", "w2", "b2"], ["head"], name="conv2"),
        helper.make_node("Sigmoid", ["head"], ["head_sigmoid"], name="sigmoid"),
        helper.make_node("Reshape", ["head_sigmoid", "flat"], ["fields"], name="flatten"),
        helper.make_node("Mul", ["fields", "scale"], ["fields_scaled" if layout == "yolov5" else "output0"], name="decode"),
    ]
    if layout == "yolov5":
        nodes.append(helper.make_node("Transpose", ["fields_scaled"], ["output0"], perm=[0, 2, 1], name="to_anchors"))
    shape = [1, anchors, fields] if layout == "yolov5" else [1, fields, anchors]
    graph = helper.make_graph(nodes, f"head_{layout}", [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIDE, SIDE])],
                              [helper.make_tensor_value_info("output0", TensorProto.FLOAT, shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, path)


def iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def detection_cases(out):
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 1, (1, 3, SIDE, SIDE)).astype(np.float32).astype(np.float64)
    box = [3.0, 4.0, 11.0, 12.0]
    cases = []
    for layout, fields in [("yolov5", 7), ("yolov8", 6)]:
        weights = (rng.normal(0, 0.5, (HIDDEN, 3, 3, 3)).astype(np.float32).astype(np.float64),
                   rng.normal(0, 0.1, HIDDEN).astype(np.float32).astype(np.float64),
                   rng.normal(0, 0.7, (fields, HIDDEN, 1, 1)).astype(np.float32).astype(np.float64),
                   rng.normal(0, 0.3, fields).astype(np.float32).astype(np.float64),
                   np.array([SIDE] * 4 + [1] * (fields - 4), np.float64))
        path = out / f"head_{layout}.onnx"
        head_model(path, weights, layout)
        y = head_forward(x, weights, layout)
        per_anchor = y if layout == "yolov5" else y.T  # A, fields
        first_class = 5 if layout == "yolov5" else 4
        objectness = per_anchor[:, 4] if layout == "yolov5" else np.ones(len(per_anchor))
        klass = 1
        scores = per_anchor[:, first_class + klass] * objectness
        ious = [iou(box, (a[0] - a[2] / 2, a[1] - a[3] / 2, a[0] + a[2] / 2, a[1] + a[3] / 2)) for a in per_anchor]
        anchor = max(range(len(ious)), key=lambda a: (ious[a], scores[a]))

        def score(xx):
            p = head_forward(xx, weights, layout)
            p = p if layout == "yolov5" else p.T
            return p[anchor, first_class + klass] * (p[anchor, 4] if layout == "yolov5" else 1.0)

        gradient = np.zeros_like(x)
        step = 1e-5
        for index in np.ndindex(x.shape):
            up, down = x.copy(), x.copy()
            up[index] += step
            down[index] -= step
            gradient[index] = (score(up) - score(down)) / (2 * step)
        cases.append({"layout": layout, "model": str(path), "input": save(out / f"head_{layout}_input.npy", x),
                      "box": box, "class": klass, "anchor": int(anchor), "iou": float(ious[anchor]),
                      "score": float(scores[anchor]), "gradient": save(out / f"head_{layout}_gradient.npy", gradient)})
        print(f"detection {layout}: anchor {anchor} (IoU {ious[anchor]:.3f}), score {scores[anchor]:.5f}, "
              f"max|∂s/∂x| {np.abs(gradient).max():.3g}")
    return cases


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--shared", default=str(REPO_ROOT.parent / "shared"))
    args = parser.parse_args()
    out = Path(args.outdir).resolve() / "targets"
    out.mkdir(parents=True, exist_ok=True)
    cases = {"nhwc": nhwc_case(out, Path(args.shared)), "detection": detection_cases(out)}
    (out / "targets.json").write_text(json.dumps(cases, indent=1) + "\n")
    print(f"target references → {out / 'targets.json'}")


if __name__ == "__main__":
    main()
