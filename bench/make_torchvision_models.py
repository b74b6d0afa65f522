#!/usr/bin/env python3
"""Export DenseNet-121 and EfficientNet-B0 from torchvision, seeded, for the benchmark.

Usage: python3 bench/make_torchvision_models.py OUTDIR

Writes OUTDIR/{densenet121,efficientnet_b0}.onnx: torchvision 0.2x's architectures with
torch.manual_seed(SEED) initial weights (weights=None), eval mode, torch.onnx.export at opset
13, input `input` [1,3,224,224] with a dynamic batch axis, output `logits` [N,1000]. Unlike
make_models.py's graphs these keep what the exporter writes: DenseNet's BatchNorm before each
conv (BN–ReLU–Conv, so it cannot fold), EfficientNet's SiLU as Sigmoid + Mul and its
squeeze-and-excitation blocks. Each export is checked once against torch with onnxruntime.
The weights are random: these models are for timing, not for accuracy.
"""

import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import torchvision

SEED = 7


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_torchvision_models.py OUTDIR")
    outdir = Path(sys.argv[1])
    outdir.mkdir(parents=True, exist_ok=True)
    x = torch.from_numpy(np.random.default_rng(1234).standard_normal((1, 3, 224, 224)).astype(np.float32))
    for name in ["densenet121", "efficientnet_b0"]:
        torch.manual_seed(SEED)
        model = getattr(torchvision.models, name)(weights=None).eval()
        path = outdir / f"{name}.onnx"
        with torch.no_grad():
            expected = model(x).numpy()
            torch.onnx.export(model, x, str(path), opset_version=13, input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, dynamo=False)
        got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(["logits"], {"input": x.numpy()})[0]
        assert np.abs(got - expected).max() <= 1e-3 * np.abs(expected).max(), f"{name}: onnxruntime disagrees with torch"
        print(f"{name:16s} -> {path}")


if __name__ == "__main__":
    main()
