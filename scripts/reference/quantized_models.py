#!/usr/bin/env python3
"""Quantized models as onnxruntime's quantization tool writes them, with onnxruntime's outputs.

Usage: python3 scripts/reference/quantized_models.py OUTDIR [--shared DIR] [--large]

Why x64quantprecision: on x86 CPUs without VNNI (AVX2, AVX-512 without VNNI), onnxruntime's
default uint8 x int8 kernels (vpmaddubsw) saturate each pair of products at 16 bits, so its
results depend on the CPU; that option makes them exact, as they are on VNNI and ARM CPUs
and in cnn-viz. On the Zen 3 this was written on, the default kernels moved 160 of the first
convolution's 16,384 outputs of the QOperator model by up to 69 steps.

A small CNN written here (this project's code; torch.manual_seed(0), BatchNorm statistics
measured on the calibration photos) holds the ops onnxruntime's quantizer turns into quantized
ones for CNNs: Conv+BN+ReLU, a depthwise Conv, a residual Add, a squeeze-excitation gate
(GlobalAveragePool, Conv, Sigmoid, Mul), LeakyReLU, MaxPool, AveragePool, Concat, Flatten and
a Linear (Gemm). It is exported with torch.onnx.export (opset 17, input 1x3x64x64) and
quantized with onnxruntime.quantization (the version installed: 1.32 when written), after
its quant_pre_process, calibrated with MinMax on 8 crops of SHARED/data/images' photos:

  qdq_per_channel   quantize_static, QuantFormat.QDQ, per_channel=True, uint8 activations
                    (asymmetric), int8 weights (symmetric per output channel);
  qdq_int8          the same with int8 activations (QuantType.QInt8), per tensor;
  qoperator         QuantFormat.QOperator: QLinearConv, QLinearMatMul/QGemm and the
                    com.microsoft QLinearAdd, QLinearMul, QLinearSigmoid, QLinearLeakyRelu,
                    QLinearConcat, QLinearAveragePool, QLinearGlobalAveragePool;
  dynamic           quantize_dynamic: DynamicQuantizeLinear, ConvInteger, MatMulInteger.

Blame (OUTDIR/quantized/blame/): 20 further 64x64 photo crops as PNG (photo_KK.png, the
same ImageNet normalisation after cnn-viz's --resize-only), the QDQ per-channel model with one
conv's weight scale multiplied by 8 on purpose (damaged.onnx; the conv is DAMAGED_NODE), and
the float model requantized the same way with that node excluded (nodes_to_exclude), as
requantized.onnx. blame.json names the node and its output tensors.

With --large, ResNet-18 and MobileNetV2 from torchvision 0.29 (BSD-3-Clause; weights=None,
seeded, BN calibrated on the photos), 224x224, in the three formats (qdq per channel,
qoperator, dynamic), for the end-to-end check (slow: not part of make test).

For each model and format: OUTDIR/quantized/NAME.onnx, and onnxruntime's output (CPU,
ORT_ENABLE_ALL, so QDQ groups run as its integer kernels, with session.x64quantprecision=1)
on 4 test crops (other photos than the calibration ones)
saved as NAME.input.npy [4, 3, H, W] (each run at batch 1) and NAME.output.npy; the float
model's output as FLOAT.output.npy. OUTDIR/quantized/quantized.json lists the cases: file,
format, op types, the output's quantisation step (the scale of the DequantizeLinear that
produces it, when there is one) and the source.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
from PIL import Image

PHOTOS = ["skimage_chelsea.png", "skimage_coffee.png", "winml_cat.jpg", "winml_dog.jpg",
          "gradcam_both.png", "winml_kitten_224.png"]
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


class SmallCNN(nn.Module):
    """Every op onnxruntime's static quantizer turns into a quantized op for a CNN."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.ReLU())
        self.depthwise = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1, groups=16), nn.BatchNorm2d(16), nn.ReLU())
        self.pointwise = nn.Sequential(nn.Conv2d(16, 16, 1), nn.BatchNorm2d(16))
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(16, 16, 1), nn.Sigmoid())
        self.leaky = nn.LeakyReLU(0.1)
        self.pool_max = nn.MaxPool2d(2)
        self.pool_avg = nn.AvgPool2d(2)
        self.branch = nn.Sequential(nn.Conv2d(16, 8, 3, 1, 1), nn.ReLU())
        self.head = nn.Sequential(nn.Conv2d(24, 32, 3, 2, 1), nn.BatchNorm2d(32), nn.ReLU())
        self.fc = nn.Linear(32 * 8 * 8, classes)

    def forward(self, x):
        x = self.stem(x)
        y = self.pointwise(self.depthwise(x))
        x = self.leaky(x + y)                       # residual Add, LeakyRelu
        x = x * self.gate(x)                        # squeeze-excitation: GAP, Conv, Sigmoid, Mul
        a, b = self.pool_max(x), self.pool_avg(self.branch(x))
        x = self.head(torch.cat([a, b], 1))         # Concat
        return self.fc(torch.flatten(x, 1))         # Flatten, Gemm


def crops(shared, size, count, offset):
    """`count` seeded square crops of the photos, resized to size x size, ImageNet-normalised."""
    rng = np.random.default_rng(offset)
    images = [Image.open(shared / "data/images" / name).convert("RGB") for name in PHOTOS]
    result = []
    for i in range(count):
        img = images[(i + offset) % len(images)]
        side = int(min(img.size) * rng.uniform(0.6, 1.0))
        x0, y0 = rng.integers(0, img.width - side + 1), rng.integers(0, img.height - side + 1)
        crop = img.crop((x0, y0, x0 + side, y0 + side)).resize((size, size), Image.BILINEAR)
        result.append(((np.asarray(crop, np.float32) / 255 - MEAN) / STD).transpose(2, 0, 1))
    return np.stack(result).astype(np.float32)


def calibrate_batchnorm(model, batch):
    """BN running statistics measured on real photos (seeded defaults give flat activations)."""
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    with torch.no_grad():
        model(torch.from_numpy(batch))
    model.eval()


class Reader:
    """onnxruntime's CalibrationDataReader over a batch, one image at a time."""

    def __init__(self, name, batch):
        self.items = iter([{name: batch[i:i + 1]} for i in range(len(batch))])

    def get_next(self):
        return next(self.items, None)

    def rewind(self):
        pass


def run(path, inputs):
    options = ort.SessionOptions()
    options.add_session_config_entry("session.x64quantprecision", "1")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: inputs[i:i + 1]})[0] for i in range(len(inputs))])


def output_step(model):
    """The scale of the DequantizeLinear that produces the graph's output, if one does."""
    out = model.graph.output[0].name
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    for node in model.graph.node:
        if out in node.output and node.op_type == "DequantizeLinear" and node.input[1] in inits:
            return float(np.max(inits[node.input[1]]))
    return None


def quantize(float_path, out_dir, name, fmt, calibration):
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType,
                                          quantize_dynamic, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process
    pre = out_dir / f"{name}.pre.onnx"
    quant_pre_process(str(float_path), str(pre), skip_symbolic_shape=True)
    target = out_dir / f"{name}_{fmt}.onnx"
    input_name = onnx.load(str(pre)).graph.input[0].name
    if fmt == "dynamic":
        quantize_dynamic(str(pre), str(target), weight_type=QuantType.QUInt8)
    else:
        quantize_static(str(pre), str(target), Reader(input_name, calibration),
                        quant_format=QuantFormat.QOperator if fmt == "qoperator" else QuantFormat.QDQ,
                        per_channel=fmt == "qdq_per_channel",
                        activation_type=QuantType.QInt8 if fmt == "qdq_int8" else QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    pre.unlink()
    return target


DAMAGED_NODE = "/pointwise/pointwise.0/Conv"


def make_blame_case(out, shared, float_path, calibration):
    """The damaged QDQ model, its requantization without the damaged conv, and 20 photos."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process
    folder = out / "blame"
    folder.mkdir(exist_ok=True)
    photos = crops(shared, 64, 20, 200)
    for i, photo in enumerate(photos):
        rgb = np.clip(np.rint((photo.transpose(1, 2, 0) * STD + MEAN) * 255), 0, 255).astype(np.uint8)
        Image.fromarray(rgb).save(folder / f"photo_{i:02d}.png")
    # The network sees the PNGs' pixels, as cnn-viz will: quantized back to 8 bits.
    pre = folder / "pre.onnx"
    quant_pre_process(str(float_path), str(pre), skip_symbolic_shape=True)
    input_name = onnx.load(str(pre)).graph.input[0].name
    common = dict(quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
                  weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    quantize_static(str(pre), str(folder / "damaged.onnx"), Reader(input_name, calibration), **common)
    model = onnx.load(str(folder / "damaged.onnx"))
    conv = next(n for n in model.graph.node if n.name == DAMAGED_NODE)
    weight_dq = next(n for n in model.graph.node if n.output[0] == conv.input[1])
    scale = next(i for i in model.graph.initializer if i.name == weight_dq.input[1])
    values = onnx.numpy_helper.to_array(scale) * 8
    scale.CopyFrom(onnx.numpy_helper.from_array(values.astype(np.float32), scale.name))
    onnx.save(model, str(folder / "damaged.onnx"))
    quantize_static(str(pre), str(folder / "requantized.onnx"), Reader(input_name, calibration),
                    nodes_to_exclude=[DAMAGED_NODE], **common)
    pre.unlink()
    (folder / "blame.json").write_text(json.dumps({
        "float": float_path.name, "damaged": "damaged.onnx", "requantized": "requantized.onnx",
        "damaged_node": DAMAGED_NODE, "damaged_outputs": list(conv.output), "photos": 20,
        "how": "the conv's int8 weight scale (per channel) multiplied by 8 in the QDQ per-channel model"}, indent=1))


def build(name, size):
    torch.manual_seed(0)
    if name == "small_cnn":
        return SmallCNN()
    import torchvision
    return {"resnet18": torchvision.models.resnet18, "mobilenet_v2": torchvision.models.mobilenet_v2}[name](weights=None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[3] / "shared")
    ap.add_argument("--large", action="store_true", help="also ResNet-18 and MobileNetV2 at 224x224")
    args = ap.parse_args()
    out = args.outdir / "quantized"
    out.mkdir(parents=True, exist_ok=True)
    models = [("small_cnn", 64, ["qdq_per_channel", "qdq_int8", "qoperator", "dynamic"])]
    if args.large:
        models += [(n, 224, ["qdq_per_channel", "qoperator", "dynamic"]) for n in ("resnet18", "mobilenet_v2")]
    cases = []
    for name, size, formats in models:
        calibration, test = crops(args.shared, size, 8, 0), crops(args.shared, size, 4, 100)
        model = build(name, size)
        calibrate_batchnorm(model, calibration)
        float_path = out / f"{name}.onnx"
        torch.onnx.export(model, torch.from_numpy(test[:1]), str(float_path), opset_version=17,
                          input_names=["input"], output_names=["logits"], dynamo=False)
        np.save(out / f"{name}.input.npy", test)
        np.save(out / f"{name}.output.npy", run(float_path, test))
        if name == "small_cnn":
            make_blame_case(out, args.shared, float_path, calibration)
        for fmt in formats:
            path = quantize(float_path, out, name, fmt, calibration)
            model_proto = onnx.load(str(path))
            np.save(out / f"{path.stem}.output.npy", run(path, test))
            cases.append({"name": path.stem, "model": name, "format": fmt, "file": path.name,
                          "float_file": float_path.name, "input": f"{name}.input.npy",
                          "output": f"{path.stem}.output.npy", "float_output": f"{name}.output.npy",
                          "output_step": output_step(model_proto),
                          "op_types": sorted({f"{n.domain + '.' if n.domain else ''}{n.op_type}" for n in model_proto.graph.node})})
            print(f"{path.stem}: {', '.join(cases[-1]['op_types'])}", file=sys.stderr)
    (out / "quantized.json").write_text(json.dumps({
        "onnxruntime": ort.__version__, "torch": torch.__version__,
        "source": "SmallCNN: this project's code; ResNet-18, MobileNetV2: torchvision (BSD-3-Clause), weights=None, seeded",
        "cases": cases}, indent=1))


if __name__ == "__main__":
    main()
