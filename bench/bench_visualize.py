#!/usr/bin/env python3
"""Feature visualisation: cnn-viz `visualize` against an equivalent torch loop (Lucent's recipe).

Usage: python3 bench/bench_visualize.py --cnn-viz PATH [--shared DIR] [--steps 512] [--channels 1 16] [--rounds N]

The model is the real SqueezeNet 1.1 (SHARED/data/models), in torch as torchvision's
squeezenet1_1 with the ONNX file's weights loaded layer by layer (the same network), the
objective the mean of fire9/concat_1's channels 0..N-1, one image per channel in one batch.
The torch loop is Lucent's render_vis step written out (torch-lucent 0.1.8 pins kornia 0.4.1,
which does not run on current torch): param.image(224, fft=True, decorrelate=True), the
standard transforms (pad 12 with 0.5, jitter 8, random scale 0.9-1.1, rotation -10..10 plus
five 0, jitter 4; kornia's translate and rotation as grid_sample with aligned corners), then,
as cnn-viz does for a model of fixed input size, a bilinear resize back to 224 and the Caffe
preprocessing (BGR, 0-255 minus the mean), Adam at 0.05. Both sides use 2 threads; wall time
of the whole run (cnn-viz: the process, model load and file writing included).

Ratios are cnn-viz time / torch time (below 1: cnn-viz faster). No assertion on time. With
--rounds N the two sides alternate N times per channel count (cnn-viz, torch, cnn-viz, ...),
each round gets its row, and a last row gives the medians: a machine whose speed drifts by
10-20% between runs moves both sides of a round together.

With --photos, also the feature visualisation issue's first check on all 32 channels: for
channels 0-15 of fire9/concat_1 and of fire5/concat_1, the optimised image's objective against
the largest channel mean over every photo of SHARED/data/images (onnxruntime, Caffe
preprocessing; scripts/reference/feature_visualization_reference.py's photo_maxima). A channel
that the default recipe leaves at or below the best photo gets a second row: the plain pixel
parameterisation without decorrelation or transforms (a near-dead channel, such as fire5's 9,
needs it).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAYER = "fire9/concat_1"


def torch_run(model_path, channels, steps, seed=0):
    import numpy as np
    import onnx
    import torch
    import torch.nn.functional as F
    import torchvision
    from onnx import numpy_helper

    torch.set_num_threads(2)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = torchvision.models.squeezenet1_1(weights=None).eval()
    onnx_model = onnx.load(str(model_path))
    initializers = {i.name: numpy_helper.to_array(i) for i in onnx_model.graph.initializer}
    convs = [n for n in onnx_model.graph.node if n.op_type == "Conv"]
    modules = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == len(modules), (len(convs), len(modules))
    for node, module in zip(convs, modules):
        module.weight.data = torch.tensor(initializers[node.input[1]].astype(np.float32))
        module.bias.data = torch.tensor(initializers[node.input[2]].astype(np.float32))
    for p in model.parameters():
        p.requires_grad_(False)
    captured = {}
    model.features[12].register_forward_hook(lambda module, inputs, output: captured.__setitem__("y", output))

    batch, h, w = len(channels), 224, 224
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[: w // 2 + 1]
    scale = torch.tensor(1.0 / np.maximum(np.sqrt(fx * fx + fy * fy), 1.0 / max(w, h))).float()[None, None, ..., None]
    spectrum = (torch.randn(batch, 3, h, w // 2 + 1, 2) * 0.01).requires_grad_(True)
    sqrt = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], np.float32)
    colour = torch.tensor((sqrt / np.max(np.linalg.norm(sqrt, axis=0))).T)

    def image():
        x = torch.fft.irfftn(torch.view_as_complex(scale * spectrum), s=(h, w), norm="ortho") / 4
        return torch.sigmoid((x.permute(0, 2, 3, 1) @ colour).permute(0, 3, 1, 2))

    def warp(x, inverse):
        _, _, hh, ww = x.shape
        ys, xs = torch.meshgrid(torch.arange(hh, dtype=torch.float32), torch.arange(ww, dtype=torch.float32), indexing="ij")
        u, v = inverse(xs, ys)
        grid = torch.stack([2 * u / (ww - 1) - 1, 2 * v / (hh - 1) - 1], dim=-1)[None].expand(x.shape[0], -1, -1, -1)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)

    def jitter(x, d):
        dx, dy = rng.choice(d), rng.choice(d)
        return warp(x, lambda xs, ys: (xs - float(dx), ys - float(dy)))

    def random_scale(x):
        s = rng.choice([1 + (i - 5) / 50.0 for i in range(11)])
        shp = x.shape[2:]
        size = [int(np.ceil(s * d)) for d in shp]
        pad_x, pad_y = max(0, int(np.ceil((shp[1] - size[1]) / 2))), max(0, int(np.ceil((shp[0] - size[0]) / 2)))
        return F.pad(F.interpolate(x, size=size, mode="bilinear", align_corners=True), [pad_y, pad_x] * 2)

    def rotate(x):
        a = np.deg2rad(rng.choice(list(range(-10, 11)) + 5 * [0]))
        hh, ww = x.shape[2:]
        cx, cy, c, s = (ww - 1) / 2, (hh - 1) / 2, float(np.cos(a)), float(np.sin(a))
        return warp(x, lambda xs, ys: (cx + c * (xs - cx) - s * (ys - cy), cy + s * (xs - cx) + c * (ys - cy)))

    mean = torch.tensor([104.0, 117.0, 123.0])[None, :, None, None]
    optimizer = torch.optim.Adam([spectrum], lr=0.05)
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.zero_grad()
        x = F.pad(image(), [12] * 4, mode="constant", value=0.5)
        x = jitter(rotate(random_scale(jitter(x, 8))), 4)
        x = F.interpolate(x, size=(224, 224), mode="bilinear", align_corners=True)
        model(x[:, [2, 1, 0]] * 255 - mean)
        y = captured["y"]
        loss = -sum(y[b, c].mean() for b, c in enumerate(channels))
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        model(image()[:, [2, 1, 0]] * 255 - mean)
        values = [float(captured["y"][b, c].mean()) for b, c in enumerate(channels)]
    return seconds, values


def cnn_viz_run(binary, model_path, channels, steps):
    out = tempfile.mkdtemp(prefix="cnnviz-vis-")
    env = dict(os.environ, CNNVIZ_THREADS="2")
    start = time.perf_counter()
    result = subprocess.run([str(binary), "visualize", "--model", str(model_path), "--preprocess", "caffe", "--layer", LAYER,
                             "--channels", f"0-{channels - 1}", "--steps", str(steps), "--out", out, "--json"],
                            check=True, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    return seconds, [entry["value"] for entry in json.loads(result.stdout)["images"]]


def photo_table(binary, model, shared, steps):
    sys.path.insert(0, str(HERE.parent / "scripts/reference"))
    from feature_visualization_reference import photo_maxima
    work = Path(tempfile.mkdtemp(prefix="cnnviz-maxima-"))
    photo_maxima(work, shared)
    maxima = json.load(open(work / "photo_maxima.json"))["maxima"]
    print(f"\nObjective (channel mean) of the optimised image against the best of the photos, {steps} steps")
    print("| layer | channel | optimised | best photo | exceeds |")
    print("|---|---:|---:|---:|---|")
    def optimised(layer, channels, *options):
        out = tempfile.mkdtemp(prefix="cnnviz-vis-")
        result = subprocess.run([str(binary), "visualize", "--model", str(model), "--preprocess", "caffe", "--layer", layer, "--channels", channels,
                                 "--steps", str(steps), "--out", out, "--json", *options], check=True, capture_output=True, text=True)
        return [entry["value"] for entry in json.loads(result.stdout)["images"]]

    for layer in ["fire9/concat_1", "fire5/concat_1"]:
        for channel, value in enumerate(optimised(layer, "0-15")):
            best = maxima[layer][channel]
            print(f"| {layer} | {channel} | {value:.3g} | {best:.3g} | {'yes' if value > best else 'NO'} |", flush=True)
            if value <= best:
                [value] = optimised(layer, str(channel), "--param", "pixel", "--no-decorrelate", "--transforms", "none")
                print(f"| {layer} | {channel} (pixel, no transforms) | {value:.3g} | {best:.3g} | {'yes' if value > best else 'NO'} |", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--cnn-viz", type=Path, required=True)
    ap.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    ap.add_argument("--steps", type=int, default=512)
    ap.add_argument("--channels", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--rounds", type=int, default=1, help="alternate the two sides this many times per channel count")
    ap.add_argument("--photos", action="store_true", help="also compare 32 channels' objectives with the photos' maxima")
    args = ap.parse_args()
    model = args.shared / "data/models/squeezenet1.1_fp32_from_winml_fp16.onnx"
    print(f"SqueezeNet 1.1, {LAYER}, {args.steps} steps, 224x224, 2 threads")
    print("| channels | cnn-viz s | torch s | ratio | cnn-viz mean objective | torch mean objective |")
    print("|---:|---:|---:|---:|---:|---:|")
    for count in args.channels:
        rounds = []
        for _ in range(args.rounds):
            ours, our_values = cnn_viz_run(args.cnn_viz, model, count, args.steps)
            theirs, their_values = torch_run(model, list(range(count)), args.steps)
            rounds.append((ours, theirs))
            print(f"| {count} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f}x | {sum(our_values) / count:.1f} | {sum(their_values) / count:.1f} |", flush=True)
        if args.rounds > 1:
            ours, theirs = statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds)
            ratio = statistics.median(r[0] / r[1] for r in rounds)
            print(f"| {count} (median of {args.rounds}) | {ours:.1f} | {theirs:.1f} | {ratio:.2f}x | | |", flush=True)
    if args.photos:
        photo_table(args.cnn_viz, model, args.shared, args.steps)


if __name__ == "__main__":
    main()
