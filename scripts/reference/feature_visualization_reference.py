#!/usr/bin/env python3
"""References for cnn-viz's feature visualisation (FeatureVisualizationTests).

Usage: python3 scripts/reference/feature_visualization_reference.py OUTDIR [--shared DIR]

Writes OUTDIR/featurevis/:
  fourier_HxW.spectrum.npy, fourier_HxW.image.npy
      A seeded spectrum [2, 3, H, W//2 + 1 (+1 for odd W, as Lucent keeps), 2] and the image
      Lucent's param.image(fft=True, decorrelate=True) makes from it, re-implemented in NumPy
      (float64) from lucent/optvis/param/spatial.py and color.py: scale = 1/max(f, 1/max(W,H))^decay,
      irfftn(scale * spectrum, s=(H, W), norm="ortho") / 4, then per pixel t @ M.T with M
      Lucid's colour correlation square root normalised by its largest column norm, then a
      sigmoid. Also pixel_HxW (fft=False) and decay2_HxW (decay_power=2).
  transforms.input.npy and transform_NAME.npy
      A seeded [2, 3, 40, 36] image through each of Lucent's transforms at a fixed draw,
      computed with torch as Lucent computes them (F.pad; Upsample(bilinear, align_corners=True)
      then F.pad(.., [pad_y, pad_x] * 2); kornia's translate and warp_affine written as
      F.grid_sample(align_corners=True, zeros) on the same inverse-mapped pixel grid).
  examples/*.png, examples.json
      16 64x64 PNG crops of SHARED/data/images' photos (Pillow), and the brute-force top-k
      dataset examples (one per image: its largest activation, the first position on ties;
      images ranked by it, the earlier on ties) from onnxruntime's activations of every image,
      for samples/models/shapes.onnx relu3 (its preprocessing: x/255, mean 0.5, std 0.25) over
      those crops, and for SqueezeNet fire5/concat_1 (Caffe preprocessing) over the photos.
  photo_maxima.json
      For SqueezeNet (SHARED/data/models), per channel of fire9/concat_1 and fire5/concat_1,
      the largest mean activation over every photo of SHARED/data/images (onnxruntime, Caffe
      preprocessing as cam_reference.caffe_tensor).
"""
import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cam_reference import caffe_tensor  # noqa: E402
from decode_images import decode  # noqa: E402
from dump_ort_tensors import exposing, input_name  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHARED = Path(os.environ.get("CNNVIZ_SHARED", REPO_ROOT.parent / "shared"))

COLOR_SQRT = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], np.float32)


def lucent_image(spectrum, h, w, decay=1.0, fft=True):
    """Lucent's param.image(w, h, decorrelate=True, fft=fft) for given parameters, in float64."""
    if fft:
        fy = np.fft.fftfreq(h)[:, None]
        fx = np.fft.fftfreq(w)[: w // 2 + (2 if w % 2 == 1 else 1)]
        freqs = np.sqrt(fx * fx + fy * fy)
        scale = 1.0 / np.maximum(freqs, 1.0 / max(w, h)) ** decay
        scaled = scale[None, None, :, :] * (spectrum[..., 0] + 1j * spectrum[..., 1])
        image = np.fft.irfftn(scaled, s=(h, w), axes=(-2, -1), norm="ortho")[..., :h, :w] / 4.0
    else:
        image = spectrum.astype(np.float64)
    m = COLOR_SQRT / np.max(np.linalg.norm(COLOR_SQRT, axis=0))
    t = image.transpose(0, 2, 3, 1) @ m.T.astype(np.float64)
    return 1.0 / (1.0 + np.exp(-t.transpose(0, 3, 1, 2)))


def fourier_cases(out, rng):
    for h, w, decay in [(224, 224, 1.0), (31, 37, 1.0), (16, 20, 1.0), (24, 24, 2.0)]:
        k = w // 2 + (2 if w % 2 == 1 else 1)
        spectrum = (rng.standard_normal((2, 3, h, k, 2)) * 0.05).astype(np.float32)
        name = f"fourier_{h}x{w}" if decay == 1.0 else f"decay2_{h}x{w}"
        np.save(out / f"{name}.spectrum.npy", spectrum)
        np.save(out / f"{name}.image.npy", lucent_image(spectrum.astype(np.float64), h, w, decay).astype(np.float32))
    pixels = (rng.standard_normal((2, 3, 12, 10)) * 0.5).astype(np.float32)
    np.save(out / "pixel_12x10.spectrum.npy", pixels)
    np.save(out / "pixel_12x10.image.npy", lucent_image(pixels, 12, 10, fft=False).astype(np.float32))


def transform_cases(out, rng):
    import torch
    import torch.nn.functional as F

    x = torch.tensor(rng.random((2, 3, 40, 36)).astype(np.float32))
    np.save(out / "transforms.input.npy", x.numpy())

    def warp(image, inverse):
        """kornia.warp_affine(align_corners=True, zeros): output (x, y) samples the input at
        inverse(x, y), in pixel coordinates, with grid_sample."""
        b, _, h, w = image.shape
        ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
        u, v = inverse(xs, ys)
        grid = torch.stack([2 * u / (w - 1) - 1, 2 * v / (h - 1) - 1], dim=-1)[None].repeat(b, 1, 1, 1)
        return F.grid_sample(image.double(), grid, mode="bilinear", padding_mode="zeros", align_corners=True).float()

    def scale(image, s):
        shp = image.shape[2:]
        scale_shape = [int(np.ceil(s * d)) for d in shp]
        pad_x = max(0, int(np.ceil((shp[1] - scale_shape[1]) / 2)))
        pad_y = max(0, int(np.ceil((shp[0] - scale_shape[0]) / 2)))
        upsample = torch.nn.Upsample(size=scale_shape, mode="bilinear", align_corners=True)
        return F.pad(upsample(image), [pad_y, pad_x] * 2)

    def rotate(image, degrees):
        h, w = image.shape[2:]
        cx, cy = (w - 1) / 2, (h - 1) / 2
        a = np.deg2rad(degrees)
        # OpenCV / kornia get_rotation_matrix2d maps source to destination; sample the inverse.
        m = np.array([[np.cos(a), np.sin(a), (1 - np.cos(a)) * cx - np.sin(a) * cy],
                      [-np.sin(a), np.cos(a), np.sin(a) * cx + (1 - np.cos(a)) * cy], [0, 0, 1]])
        inv = np.linalg.inv(m)
        return warp(image, lambda xs, ys: (inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2], inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]))

    cases = {
        "pad_12": F.pad(x, [12] * 4, mode="constant", value=0.5),
        "translate_3_5": warp(x, lambda xs, ys: (xs - 3, ys - 5)),
        "scale_0.9": scale(x, 0.9),
        "scale_0.92": scale(x, 1 + (1 - 5) / 50.0),
        "scale_1.1": scale(x, 1.1),
        "rotate_7": rotate(x, 7.0),
        "rotate_-10": rotate(x, -10.0),
    }
    for name, value in cases.items():
        np.save(out / f"transform_{name}.npy", value.numpy().astype(np.float32))


def photo_maxima(out, shared):
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(shared / "data/models/squeezenet1.1_fp32_from_winml_fp16.onnx"))
    layers = ["fire9/concat_1", "fire5/concat_1"]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(exposing(model, layers).SerializeToString(), options, providers=["CPUExecutionProvider"])
    photos = sorted(p for p in (shared / "data/images").iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    maxima = {layer: None for layer in layers}
    for photo in photos:
        values = session.run(layers, {input_name(model): caffe_tensor(decode(photo)[0])})
        for layer, value in zip(layers, values):
            means = value[0].reshape(value.shape[1], -1).mean(axis=1).astype(np.float64)
            maxima[layer] = means if maxima[layer] is None else np.maximum(maxima[layer], means)
    json.dump({"photos": [p.name for p in photos], "maxima": {k: v.tolist() for k, v in maxima.items()}}, open(out / "photo_maxima.json", "w"), indent=1)


def top_k(activations, paths, channels, k):
    """Per channel: one (value, row, column) per image at its first largest position, the k best
    images (stable: the earlier image on ties)."""
    result = []
    for c in channels:
        entries = []
        for index, a in enumerate(activations):
            plane = a[0, c]
            flat = int(np.argmax(plane))  # the first maximum in row-major order
            entries.append((-float(plane.flat[flat]), index, flat // plane.shape[1], flat % plane.shape[1]))
        entries.sort(key=lambda e: (e[0], e[1]))
        result.append([{"image": paths[i], "value": -v, "row": r, "column": col} for v, i, r, col in entries[:k]])
    return result


def example_cases(out, shared):
    import onnx
    import onnxruntime as ort
    from PIL import Image

    folder = out / "examples"
    folder.mkdir(exist_ok=True)
    photos = sorted(p for p in (shared / "data/images").iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    crops = []
    for n, photo in enumerate(p for p in photos if "mnist" not in p.name):
        rgb = Image.fromarray(decode(photo)[0])
        for j, (fx, fy, size) in enumerate([(0.2, 0.3, 0.5), (0.55, 0.4, 0.35)]):
            side = int(min(rgb.size) * size)
            x, y = int((rgb.size[0] - side) * fx), int((rgb.size[1] - side) * fy)
            crop = rgb.crop((x, y, x + side, y + side)).resize((64, 64), Image.BILINEAR)
            path = folder / f"crop_{n:02d}_{j}.png"
            crop.save(path)
            crops.append(path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1

    def activations(model, layer, tensors):
        session = ort.InferenceSession(exposing(model, [layer]).SerializeToString(), options, providers=["CPUExecutionProvider"])
        return [session.run([layer], {input_name(model): t})[0] for t in tensors]

    shapes = onnx.load(str(REPO_ROOT / "samples/models/shapes.onnx"))
    shape_inputs = [((np.asarray(decode(p)[0], np.float32).transpose(2, 0, 1)[None] / 255 - 0.5) / 0.25).astype(np.float32) for p in crops]
    squeezenet = onnx.load(str(shared / "data/models/squeezenet1.1_fp32_from_winml_fp16.onnx"))
    cases = {
        "shapes": {"layer": "relu3", "images": [p.name for p in crops], "k": 5, "channels": list(range(16)),
                   "examples": top_k(activations(shapes, "relu3", shape_inputs), [p.name for p in crops], range(16), 5)},
        "squeezenet": {"layer": "fire5/concat_1", "images": [p.name for p in photos], "k": 4, "channels": list(range(16)),
                       "examples": top_k(activations(squeezenet, "fire5/concat_1", [caffe_tensor(decode(p)[0]) for p in photos]),
                                         [p.name for p in photos], range(16), 4)},
    }
    json.dump(cases, open(out / "examples.json", "w"), indent=1)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args(argv)
    out = args.outdir / "featurevis"
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261206)
    fourier_cases(out, rng)
    transform_cases(out, rng)
    photo_maxima(out, args.shared)
    example_cases(out, args.shared)
    print(f"feature visualisation references → {out}")


if __name__ == "__main__":
    main()
