#!/usr/bin/env python3
"""MTCNN's ONet with its real weights: a model whose class output is not its first output.

Usage: python3 scripts/reference/mtcnn_reference.py OUTDIR [--shared DIR]

facenet-pytorch 2.6.0 (MIT) ships the trained MTCNN weights in its wheel. The wheel is
fetched with `pip download --no-deps` into OUTDIR/mtcnn and its ONet (48×48 input; outputs
box regression [N, 4], landmarks [N, 10] and the face probability [N, 2], after a Softmax,
in that order) is exported with torch.onnx.export. The reference is torch's own autograd:
the face probability prob[0, 1] and its gradient with respect to the input, on a 48×48 crop
of skimage_chelsea.png normalised as MTCNN does ((x − 127.5) / 128).
Writes OUTDIR/mtcnn/mtcnn.json.
"""

import argparse
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
WHEEL = "facenet-pytorch==2.6.0"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--shared", default=str(REPO_ROOT.parent / "shared"))
    args = parser.parse_args()
    out = Path(args.outdir).resolve() / "mtcnn"
    out.mkdir(parents=True, exist_ok=True)
    if not list(out.glob("facenet_pytorch-*.whl")):
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", WHEEL, "-d", str(out)], check=True)
    with zipfile.ZipFile(next(out.glob("facenet_pytorch-*.whl"))) as archive:
        archive.extractall(out / "package")
    sys.path.insert(0, str(out / "package"))
    from facenet_pytorch.models.mtcnn import ONet

    torch.set_num_threads(2)
    onet = ONet(pretrained=True).eval()
    image = Image.open(Path(args.shared) / "data" / "images" / "skimage_chelsea.png").convert("RGB")
    crop = image.crop((60, 20, 300, 260)).resize((48, 48), Image.BILINEAR)
    x = ((np.asarray(crop, np.float32) - 127.5) * 0.0078125).transpose(2, 0, 1)[None].astype(np.float32)

    path = out / "onet.onnx"
    torch.onnx.export(onet, (torch.from_numpy(x),), str(path), input_names=["input"],
                      output_names=["box", "landmarks", "prob"], opset_version=17, dynamo=False)
    inputs = torch.from_numpy(x).requires_grad_(True)
    box, landmarks, prob = onet(inputs)
    prob[0, 1].backward()
    np.save(out / "input.npy", x)
    np.save(out / "gradient.npy", inputs.grad.numpy())
    case = {"model": str(path), "input": str(out / "input.npy"), "output": "prob", "class": 1,
            "probability": float(prob[0, 1]), "gradient": str(out / "gradient.npy"), "source": WHEEL, "licence": "MIT"}
    (out / "mtcnn.json").write_text(json.dumps(case, indent=1) + "\n")
    print(f"mtcnn ONet ({WHEEL}): face probability {float(prob[0, 1]):.4f}, max|∂p/∂x| {inputs.grad.abs().max():.3g}")


if __name__ == "__main__":
    main()
