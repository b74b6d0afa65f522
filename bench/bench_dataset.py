#!/usr/bin/env python3
"""Grad-CAM over a dataset: cnn-viz's dataset run against a pytorch-grad-cam loop.

Usage:
  python3 bench/bench_dataset.py --cnn-viz PATH [--images 1000] [--rounds 1] [--batch 32]
                                 [--view original|model] [--shared DIR]

Builds a temporary dataset of N images in nested folders: half are seeded random crops and
rescales (short side 224-480, PNG or JPEG) of SHARED/data/images' photos, in photos/group_K/;
half are `cnn-viz shapes generate --size 256` scenes, in scenes/set_K/. Then, for the real
SqueezeNet 1.1 (SHARED/data/models/squeezenet1.1_fp32_from_winml_fp16.onnx), caffe
preprocessing and the layer cnn-viz explains by default (the "layer" of a one-image run),
times two sides, each run in a fresh process, alternating, on all N images and on the first
100 in sorted order (photos, from N = 200): the 100-image run shows whether peak memory grows
with the dataset.
  cnn-viz  PATH gradcam DATASET --model M --preprocess caffe --out TMP --format png --json
           --threads 2 --view VIEW [--limit 100] > /dev/null: per image a folder with the
           overlay PNG, the raw and shown .npy maps and an HTML report, plus records.jsonl.
           VIEW original (cnn-viz's default) draws at the photo's own size; model draws on
           the 224x224 crop, as the peer does: the like-for-like choice.
  peer     this file with --worker: the loop pytorch-grad-cam's README shows, batched: Pillow
           decode, the caffe preset in numpy (Pillow bilinear short side 256, long side
           rounded, centre crop 224, BGR minus 104/117/123), B images stacked, GradCAM with
           targets=None (top-1) on attribution_torch_worker.py's OnnxModule, then per image
           show_cam_on_image's overlay (224x224) as PNG and the map as .npy.
Both use 2 threads. Wall time is process start to exit (model load included); CPU time (user
+ system, less sensitive to other load on the host) and peak RSS come from os.wait4 on the
child. Images/s = images / wall; ratio = cnn-viz / peer images/s (above 1: cnn-viz faster).
With --rounds R each figure is the median over R rounds (the shared host's load comes in
bursts, e.g. a concurrent build). No assertion on time: only a run that fails, or a side
that writes fewer outputs than images, makes the exit status 1.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SQUEEZENET = "data/models/squeezenet1.1_fp32_from_winml_fp16.onnx"
PHOTOS = ["skimage_chelsea.png", "skimage_coffee.png", "winml_cat.jpg", "winml_dog.jpg",
          "gradcam_both.png", "winml_kitten_224.png"]
FOLDERS = 5  # per half: 10 folders in all
SMALL = 100  # the early-memory run
SIDES = ("cnn-viz", "peer")
RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}

# This process imports only the standard library and starts every child: a child's peak RSS
# starts from this process's RSS at fork/exec, so loading Pillow or torch here would show up
# in every measured child. Dataset generation and the peer run in children of their own.


def make_dataset(root, images, cnn_viz, shared):
    """Write `images` images under root: photo crops and shapes scenes, half each."""
    import random
    from PIL import Image
    rng = random.Random(0)
    sources = [Image.open(shared / "data/images" / name).convert("RGB") for name in PHOTOS]
    for i in range(images - images // 2):
        src = sources[i % len(sources)]
        # A distinct crop (55-100% of each side, anywhere), rescaled to a random short side.
        cw, ch = (int(s * rng.uniform(0.55, 1.0)) for s in src.size)
        x0, y0 = rng.randint(0, src.width - cw), rng.randint(0, src.height - ch)
        short = rng.randint(224, 480)
        size = (short, round(short * ch / cw)) if cw <= ch else (round(short * cw / ch), short)
        img = src.crop((x0, y0, x0 + cw, y0 + ch)).resize(size, Image.BICUBIC)
        folder = root / "photos" / f"group_{i % FOLDERS}"
        folder.mkdir(parents=True, exist_ok=True)
        if rng.random() < 0.5:
            img.save(folder / f"photo_{i:05d}.jpg", quality=rng.randint(80, 95))
        else:
            img.save(folder / f"photo_{i:05d}.png")
    scenes = images // 2
    for k in range(FOLDERS):  # one generator seed per folder, so the scenes differ
        count = scenes // FOLDERS + (k < scenes % FOLDERS)
        if count:
            subprocess.run([cnn_viz, "shapes", "generate", "--count", str(count), "--seed", str(k),
                            "--size", "256", "--out", root / "scenes" / f"set_{k}"],
                           check=True, stdout=subprocess.DEVNULL)


def list_images(root, limit):
    """The first `limit` images below root, sorted by path as cnn-viz sorts a folder."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]


def caffe_input(path):
    """(model input [3,224,224] float32, the 224x224 RGB crop in [0,1]) for one image.

    cnn-viz's caffe preset: Pillow bilinear resize of the short side to 256 with the long
    side rounded half to even, centre crop 224 (torchvision's offsets), BGR 0-255 minus
    (104, 117, 123). cnn-viz's resize is bit-exact with Pillow's, so the inputs match.
    """
    import numpy as np
    from PIL import Image
    img = Image.open(path).convert("RGB")
    w, h = img.size
    scaled = round(256 * max(w, h) / min(w, h))  # Python's round: half to even, as cnn-viz
    img = img.resize((256, scaled) if w <= h else (scaled, 256), Image.BILINEAR)
    left, top = int(round((img.width - 224) / 2)), int(round((img.height - 224) / 2))
    rgb = np.asarray(img.crop((left, top, left + 224, top + 224)), np.float32)
    bgr = rgb[:, :, ::-1] - np.array([104, 117, 123], np.float32)
    return np.ascontiguousarray(bgr.transpose(2, 0, 1)), rgb / 255


def worker(args):
    """The peer: pytorch-grad-cam's README loop, over batches of args.batch images."""
    import numpy as np
    import onnx
    import torch
    from PIL import Image
    sys.path.insert(0, str(HERE))
    from attribution_torch_worker import OnnxModule  # also installs the torchvision stub
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.image import show_cam_on_image

    torch.set_num_threads(2)
    model = OnnxModule(onnx.load(args.model).graph, args.layer).eval()
    paths = list_images(args.worker, args.limit)
    with GradCAM(model=model, target_layers=[model.cam]) as cam:
        for start in range(0, len(paths), args.batch):
            names = paths[start:start + args.batch]
            inputs, crops = zip(*(caffe_input(args.worker / name) for name in names))
            # The weights do not require grad, so the input must for the layer's output to.
            batch = torch.from_numpy(np.stack(inputs)).requires_grad_()
            maps = cam(input_tensor=batch, targets=None)  # top-1 class of each image
            for name, crop, grayscale in zip(names, crops, maps):
                folder = args.out / Path(name).with_suffix("")
                folder.mkdir(parents=True, exist_ok=True)
                Image.fromarray(show_cam_on_image(crop, grayscale, use_rgb=True)).save(
                    folder / "gradcam.png")
                np.save(folder / "gradcam.npy", grayscale)
    print(json.dumps({"images": len(paths)}))


def run_measured(cmd, capture=True):
    """Run cmd (stdout to /dev/null unless capture); return (stdout, wall s, CPU s, RSS MiB)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([str(c) for c in cmd], stderr=err,
                                stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
        out = proc.stdout.read() if capture else None  # drain first: the child never blocks
        _, status, usage = os.wait4(proc.pid, 0)  # this child only
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(map(str, cmd))} exited with {code}:\n"
                               + err.read().decode(errors="replace")[-2000:])
    return out, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * RSS_UNIT / 2**20


def run_side(args, side, dataset, out, count, layer):
    """One measured run of one side on the first `count` images: (wall s, CPU s, RSS MiB)."""
    shutil.rmtree(out, ignore_errors=True)  # cnn-viz resumes into a filled --out: start empty
    if side == "cnn-viz":
        limit = ["--limit", str(count)] if count < args.images else []
        cmd = [args.cnn_viz, "gradcam", dataset, "--model", args.model, "--preprocess", "caffe",
               "--out", out, "--format", "png", "--json", "--threads", "2", "--view", args.view]
        _, *measured = run_measured(cmd + limit, capture=False)
        written = len((out / "records.jsonl").read_text().splitlines())
    else:
        res, *measured = run_measured([sys.executable, __file__, "--worker", dataset, "--out", out,
                                       "--model", args.model, "--layer", layer, "--limit",
                                       str(count), "--batch", str(args.batch)])
        written = json.loads(res)["images"]
    if written != count:  # a sanity check on work done, not on time
        raise RuntimeError(f"{side}: {written} of {count} images written")
    return measured


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--cnn-viz", type=Path, help="path to the cnn-viz binary")
    ap.add_argument("--images", type=int, default=1000, help="dataset size (default 1000)")
    ap.add_argument("--rounds", type=int, default=1, help="rounds; figures are medians")
    ap.add_argument("--batch", type=int, default=32, help="the peer's batch size (default 32)")
    ap.add_argument("--view", choices=["original", "model"], default="original",
                    help="cnn-viz's --view (default original; model = the peer's 224x224)")
    ap.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared",
                    help="the shared data directory (default: ../shared)")
    # Internal: the child processes this script starts.
    for name, kind in [("--worker", Path), ("--make-dataset", Path), ("--out", Path),
                       ("--model", Path), ("--layer", str), ("--limit", int)]:
        ap.add_argument(name, type=kind, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    if args.make_dataset:
        return make_dataset(args.make_dataset, args.images, args.cnn_viz, args.shared)
    if not args.cnn_viz or args.images < 2 or args.rounds < 1 or args.batch < 1:
        ap.error("--cnn-viz is required; --images must be at least 2, --rounds and --batch 1")
    args.cnn_viz, args.model = args.cnn_viz.resolve(), (args.shared / SQUEEZENET).resolve()

    sizes = sorted({min(SMALL, args.images), args.images})
    results = {(side, n): [] for side in SIDES for n in sizes}
    with tempfile.TemporaryDirectory(prefix="cnnviz-bench-dataset-") as tmp:
        dataset, out = Path(tmp) / "dataset", Path(tmp) / "out"
        subprocess.run([sys.executable, __file__, "--make-dataset", dataset, "--images",
                        str(args.images), "--cnn-viz", args.cnn_viz, "--shared", args.shared],
                       check=True)
        first = dataset / list_images(dataset, 1)[0]
        res, *_ = run_measured([args.cnn_viz, "gradcam", first, "--model", args.model,
                                "--preprocess", "caffe", "--out", out, "--json"])
        layer = json.loads(res)["results"][0]["layer"]
        print(f"{args.images} images ({args.images - args.images // 2} photo crops, "
              f"{args.images // 2} shapes scenes) in {2 * FOLDERS} folders; "
              f"SqueezeNet 1.1, caffe, layer {layer}; 2 threads; peer batch {args.batch}; "
              f"{args.rounds} round(s); cnn-viz --view {args.view}", flush=True)
        for rnd in range(args.rounds):
            # Alternate which side goes first, so a slow stretch of the host hits both.
            sides = SIDES if rnd % 2 == 0 else SIDES[::-1]
            for n in reversed(sizes):
                for side in sides:
                    wall, cpu, rss = run_side(args, side, dataset, out, n, layer)
                    results[side, n].append((wall, cpu, rss))
                    print(f"  round {rnd + 1}: {side} {n} images {wall:.1f} s (CPU {cpu:.1f} s), "
                          f"{rss:.0f} MiB", file=sys.stderr, flush=True)

    summary, rows = {"images": args.images, "batch": args.batch, "rounds": args.rounds,
                     "view": args.view, "layer": layer, "cnn-viz": {}, "peer": {},
                     "ratio_images_per_s": {}}, []
    for n in sizes:
        for side in SIDES:
            wall, cpu, rss = (statistics.median(r[i] for r in results[side, n]) for i in range(3))
            summary[side][n] = {"wall_s": round(wall, 2), "images_per_s": round(n / wall, 2),
                                "cpu_s": round(cpu, 1), "peak_rss_mib": round(rss, 1)}
            rows.append([side, str(n), f"{wall:.1f}", f"{n / wall:.1f}", f"{cpu:.1f}",
                         f"{rss:.0f}", "-"])
        ratio = summary["ratio_images_per_s"][n] = round(
            summary["cnn-viz"][n]["images_per_s"] / summary["peer"][n]["images_per_s"], 2)
        rows[-2][-1] = f"{ratio:.2f}x"  # on the cnn-viz row
    head = ["side", "images", "wall s", "images/s", "CPU s", "peak RSS MiB",
            "cnn-viz/peer images/s"]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    for r in [head, ["-" * w for w in widths], *rows]:
        print(" | ".join(v.ljust(w) if i == 0 else v.rjust(w)
                         for i, (v, w) in enumerate(zip(r, widths))))
    if len(sizes) == 2:  # memory flat? peak RSS after all N images minus after the first 100
        growth = summary["peak_rss_growth_mib"] = {
            side: round(summary[side][sizes[1]]["peak_rss_mib"] - summary[side][sizes[0]][
                "peak_rss_mib"], 1) for side in SIDES}
        print(f"peak RSS growth from {sizes[0]} to {sizes[1]} images: "
              + ", ".join(f"{side} {g:+.0f} MiB" for side, g in growth.items()))
    print(json.dumps(summary))


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, subprocess.CalledProcessError) as e:
        sys.exit(f"bench_dataset: {e}")
