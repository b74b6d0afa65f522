#!/usr/bin/env python3
"""Dump every intermediate tensor of SqueezeNet 1.1 on skimage_chelsea.png, from onnxruntime.

Usage: python3 scripts/reference/dump_ort_tensors.py OUTDIR [--shared DIR]

Why: the Swift tests compare cnn-viz's forward pass with onnxruntime's layer by layer, so a
wrong operator shows up at the first tensor that differs, not only in the logits.

How: the model is loaded with the `onnx` package, onnx.shape_inference gives every node
output its type and shape, and every float output becomes a graph output (a tensor that
shape inference does not type as float, such as the opset-7 Dropout mask, is skipped and
named on stderr). One onnxruntime run (single-threaded CPU, cam_reference.session) on the
image with Caffe preprocessing divided by 128 (cam_reference.caffe_tensor, decoded by decode_images.decode,
exactly as cam_reference.py builds its SqueezeNet input) produces them all.

Writes
  OUTDIR/<stem>.npy      float32, one per tensor; <stem> is the tensor name with every
                         character other than a letter, digit, '-', '_' or '.' replaced by
                         '_' (fire9/concat_1 → fire9_concat_1.npy)
  OUTDIR/../ort-input.npy  float32 [1, 3, 224, 224], the exact model input
  OUTDIR/index.json      {"model", "image", "input", "tensors": {tensor name: npy path}},
                         tensors in node order, paths absolute
  OUTDIR-caffe/, OUTDIR/../ort-input-caffe.npy
                         the same on the plain Caffe input (0-255 minus the mean, not divided):
                         activations in the hundreds, where a fixed atol of 1e-4 raises false
                         alarms and diff's default SQNR check must not
A missing model or image exits with a message.
"""

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

# Single-threaded BLAS and onnxruntime: reproducible, and faster on 2 busy cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, shape_inference  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cam_reference import caffe_tensor, session  # noqa: E402  (same input, same session)
from decode_images import decode  # noqa: E402  (Pillow decoding, as cnn-viz decodes)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHARED = Path(os.environ.get("CNNVIZ_SHARED", REPO_ROOT.parent / "shared"))

MODEL = "squeezenet1.1_fp32_from_winml_fp16.onnx"
IMAGE = "skimage_chelsea.png"


def file_stem(name):
    """The tensor name with every character outside [A-Za-z0-9._-] replaced by '_'."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def inferred_types(model):
    """{tensor name: ONNX element type} for every tensor shape inference could type."""
    graph = shape_inference.infer_shapes(model).graph
    infos = list(graph.input) + list(graph.value_info) + list(graph.output)
    return {v.name: v.type.tensor_type.elem_type for v in infos if v.type.HasField("tensor_type")}


def float_outputs(model):
    """(float node outputs in node order, {skipped name: reason})."""
    types = inferred_types(model)
    kept, skipped = [], {}
    for node in model.graph.node:
        for name in node.output:
            if not name:
                continue
            elem = types.get(name, TensorProto.UNDEFINED)
            if elem == TensorProto.FLOAT:
                kept.append(name)
            else:
                skipped[name] = (f"inferred type {TensorProto.DataType.Name(elem)}" if elem
                                 else "shape inference gives it no type")
    return kept, skipped


def exposing(model, names):
    """The model with every tensor in `names` also a graph output (typed by shape inference)."""
    inferred = shape_inference.infer_shapes(model)
    infos = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    present = {o.name for o in inferred.graph.output}
    for name in names:
        if name not in present:
            inferred.graph.output.append(infos[name])
    return inferred


def input_name(model):
    """The one graph input that is not an initializer."""
    initializers = {i.name for i in model.graph.initializer}
    return next(i.name for i in model.graph.input if i.name not in initializers)


def save_tensors(outdir, names, values):
    """OUTDIR/<stem>.npy per tensor, float32; {name: path}. Two names on one stem is an error."""
    paths = {}
    stems = {}
    for name, value in zip(names, values):
        stem = file_stem(name)
        if stem in stems:
            sys.exit(f"dump_ort_tensors: {name!r} and {stems[stem]!r} both map to {stem}.npy")
        stems[stem] = name
        path = outdir / f"{stem}.npy"
        np.save(path, np.asarray(value, dtype=np.float32))
        paths[name] = str(path)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help=f"shared data directory (default {DEFAULT_SHARED})")
    args = parser.parse_args(argv)
    model_path = (args.shared / "data" / "models" / MODEL).resolve()
    image_path = (args.shared / "data" / "images" / IMAGE).resolve()
    for path in (model_path, image_path):
        if not path.is_file():
            sys.exit(f"dump_ort_tensors: {path} not found")
    start = time.perf_counter()
    outdir = args.outdir.resolve()
    outdir.mkdir(parents=True, exist_ok=True)

    model = onnx.load(model_path)
    names, skipped = float_outputs(model)
    for name, reason in skipped.items():
        print(f"dump_ort_tensors: skipping {name} ({reason}, not FLOAT)", file=sys.stderr)
    # Caffe's 0–255 scale, divided by 128: activations of order 1, so that an element-wise
    # atol of 1e-4 measures float32 agreement rather than the size of SqueezeNet's caffe-scale
    # activations (hundreds, where two correct float32 summation orders differ by ~1e-3).
    x = (caffe_tensor(decode(image_path)[0]) / np.float32(128)).astype(np.float32)
    values = session(exposing(model, names)).run(names, {input_name(model): x})

    input_path = outdir.parent / "ort-input.npy"
    np.save(input_path, x)
    paths = save_tensors(outdir, names, values)
    index = {"model": str(model_path), "image": str(image_path), "input": str(input_path),
             "tensors": paths}
    (outdir / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    caffe = caffe_tensor(decode(image_path)[0]).astype(np.float32)
    caffe_dir = outdir.parent / (outdir.name + "-caffe")
    caffe_dir.mkdir(exist_ok=True)
    np.save(outdir.parent / "ort-input-caffe.npy", caffe)
    save_tensors(caffe_dir, names, session(exposing(model, names)).run(names, {input_name(model): caffe}))
    size = sum(Path(p).stat().st_size for p in paths.values())
    print(f"{len(paths)} tensors ({size / 2**20:.1f} MiB) → {outdir} "
          f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
