#!/usr/bin/env python3
"""Benchmark cnn-viz against onnxruntime and, where installed, PyTorch peers.

Usage:
  python3 bench/bench.py --cnn-viz PATH --models DIR [--rounds 5] [--iters 20]
                         [--only NAME] [--shared DIR] [--only-attribution]
                         [--methods gradcam,scorecam,integrated-gradients,smoothgrad]

For each DIR/*.onnx, `rounds` times, alternately:
  (i)  PATH run --model M.onnx --tensor DIR/input.npy --out TMP --json
       --repeat ITERS, which prints {"outputs": {name: .npy},
       "timing": {"forward_ms": median_ms}};
  (ii) bench/ort_worker.py M.onnx DIR/input.npy ITERS (onnxruntime, 2 intra-op
       threads), which prints {"forward_ms": median_ms, ...};
  (iii) for each gradient path, the same cnn-viz run plus
       --backward OUTPUT:TOP1 --wrt NAME, which also prints "backward_ms":
       forward_ms is then the forward that keeps what the backward needs and
       backward_ms the reverse pass alone, each a median over ITERS. The paths:
         backward to input: NAME = input (the gradient saliency needs);
         Grad-CAM path: NAME = the last conv block's output, from
           bench/gradcam_layer.py;
       TOP1 is the top-1 class of cnn-viz's forward output in round 1;
  (iv) where `import torch` works, bench/torch_worker.py times the same
       gradient with PyTorch (2 threads).
Each runs in its own process; its peak RSS comes from os.wait4 on its pid.
After round 1 the two outputs are compared: max|diff| must be at most
1e-4 * max|ort|; each gradient must be finite and not all zero. Reported
times are medians of the per-round medians; peak RSS is the largest over the
rounds. A gradient's time is forward_ms + backward_ms, shown also as a ratio
to cnn-viz's plain forward time for that model (row (i), same run) beside the
target ratio (GRAD_PATHS).

Then the attribution table (alone with --only-attribution), for DIR's
resnet18 and resnet50 and the real SqueezeNet 1.1 from the shared data
(SHARED/data/models/squeezenet1.1_fp32_from_winml_fp16.onnx, fed the same
DIR/input.npy): cnn-viz's time for each of ATTRIBUTION_METHODS on the model's
top-1 class (one `cnn-viz run`), explaining the layer from
bench/gradcam_layer.py, = "timing": {"attribution_ms"} of
  PATH gradcam|saliency --model M --tensor DIR/input.npy OPTIONS --class C
       --out TMP --json --repeat RUNS,
a median over RUNS runs after one untimed run. Each map must be finite and
not all zero. Where torch and the method's peer (pytorch-grad-cam for the CAMs,
Captum for the rest) import, bench/attribution_torch_worker.py times the same
request on the same ONNX file. The two alternate for ROUNDS rounds, each in a
new process; each side's time is the median of its per-round medians, and the
ratio cnn-viz / peer is shown beside the target. (Rounds, because the shared
host's load comes in bursts of seconds: one burst during one side's runs
moved a single-round ratio by 1.5x. Scorecam on a layer of 2048 or more
channels, as ResNet-50's, runs 1 round of 1 run: about 100 s per side.)
The exit status is 1 if any run failed, any output disagreed or any gradient
or map was bad; a missed target ratio is only reported.
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

import numpy as np

HERE = Path(__file__).resolve().parent
REL_TOL = 1e-4
# ru_maxrss is in KiB on Linux, in bytes on macOS.
RSS_UNIT = 1 if sys.platform == "darwin" else 1024
# (label, target ratio of forward+backward to cnn-viz's plain forward).
GRAD_PATHS = [("backward to input", 3.0), ("Grad-CAM path", 1.3)]
SQUEEZENET = "data/models/squeezenet1.1_fp32_from_winml_fp16.onnx"
# (method, cnn-viz subcommand and options, timed runs per round, rounds, target ratio to the
# peer).
ATTRIBUTION_METHODS = [
    ("gradcam", ["gradcam", "--method", "gradcam"], 10, 5, 0.5),
    ("scorecam", ["gradcam", "--method", "scorecam", "--batch-size", "32"], 1, 3, 0.7),
    ("integrated-gradients", ["saliency", "--method", "integrated-gradients", "--steps", "32"],
     3, 3, 0.7),
    ("smoothgrad", ["saliency", "--method", "gradient", "--noise", "smoothgrad",
                    "--samples", "16", "--sigma", "0.15"], 3, 3, None),
]
SCORECAM_ONCE_FROM = 2048  # layer channels from which scorecam runs 1 round of 1 run
# Peer library (import name, shown name) of each method; all need torch too.
PEERS = {"gradcam": ("pytorch_grad_cam", "grad-cam"), "scorecam": ("pytorch_grad_cam", "grad-cam"),
         "integrated-gradients": ("captum", "captum"), "smoothgrad": ("captum", "captum")}


def run_measured(cmd):
    """Run cmd; return (parsed JSON from stdout, peak RSS in MiB)."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        out = proc.stdout.read()  # drain first so the child never blocks
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)  # this child only
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(map(str, cmd))} exited with {proc.returncode}:\n"
                               + err.read().decode(errors="replace")[-2000:])
    rss_mib = usage.ru_maxrss * RSS_UNIT / 2**20
    return (json.loads(out) if out.strip() else None), rss_mib


def first_output(result, base):
    """The first output .npy named in a result (relative paths: under base)."""
    path = Path(next(iter(result["outputs"].values())))
    return np.load(path if path.is_absolute() or path.exists() else base / path)


def gradient_ms(args, model, tensor, out, target, wrt):
    """One cnn-viz forward+backward run from target (OUTPUT:INDEX) to wrt.

    Returns (forward_ms, backward_ms), medians over --iters: the forward that
    keeps what the backward needs, and the reverse pass alone. Raises
    ValueError if the gradient is not finite or is all zero.
    """
    res, _ = run_measured([args.cnn_viz, "run", "--model", model, "--tensor", tensor,
                           "--out", out, "--json", "--repeat", str(args.iters),
                           "--backward", target, "--wrt", wrt])
    grad = np.load(next(iter(res["gradients"].values())))
    if not np.isfinite(grad).all() or not grad.any():
        raise ValueError(f"{model.stem}: gradient w.r.t. {wrt} is not finite or all zero")
    return res["timing"]["forward_ms"], res["timing"]["backward_ms"]


def torch_gradient_ms(args, model, tensor, target, wrt):
    """PyTorch's forward+backward ms for the same gradient (torch_worker.py)."""
    res, _ = run_measured([sys.executable, HERE / "torch_worker.py", model, tensor,
                           str(args.iters), target, wrt])
    return res["forward_ms"] + res["backward_ms"]


def bench_model(args, model, tensor, tmp, has_torch):
    """Alternate cnn-viz and onnxruntime forward runs and the gradient runs.

    Returns the forward table row, one gradient table row per GRAD_PATHS
    entry, and whether every check passed.
    """
    cv_ms, ort_ms, cv_rss, ort_rss, diff = [], [], [], [], None
    layer, _ = run_measured([sys.executable, HERE / "gradcam_layer.py", model])
    print(f"  {model.stem}: Grad-CAM layer {layer['name']} {layer['shape']}")
    wrts = ["input", layer["name"]]
    grad_fwd, grad_bwd, torch_ms = ([[] for _ in wrts] for _ in range(3))
    grad_out = tmp / f"{model.stem}.grad"
    grad_out.mkdir(exist_ok=True)
    for rnd in range(args.rounds):
        out = tmp / f"{model.stem}.cnnviz"
        out.mkdir(exist_ok=True)
        res, rss = run_measured([args.cnn_viz, "run", "--model", model, "--tensor", tensor,
                                 "--out", out, "--json", "--repeat", str(args.iters)])
        cv_ms.append(res["timing"]["forward_ms"])
        cv_rss.append(rss)

        ort_out = tmp / f"{model.stem}.ort.npy"
        ores, rss = run_measured([sys.executable, HERE / "ort_worker.py", model, tensor,
                                  str(args.iters), ort_out])
        ort_ms.append(ores["forward_ms"])
        ort_rss.append(rss)

        if rnd == 0:  # correctness guard
            mine, ref = first_output(res, out), np.load(ort_out)
            if mine.shape != ref.shape and mine.size == ref.size:
                mine = mine.reshape(ref.shape)
            diff = float(np.max(np.abs(mine.astype(np.float64) - ref)))
            ok = mine.shape == ref.shape and diff <= REL_TOL * float(np.max(np.abs(ref)))
            if not ok:
                print(f"  {model.stem}: OUTPUT MISMATCH max|diff| {diff:.3g}, "
                      f"max|ort| {np.max(np.abs(ref)):.3g}, shapes {mine.shape} {ref.shape}")
            target = f"{next(iter(res['outputs']))}:{int(first_output(res, out)[0].argmax())}"
        for i, wrt in enumerate(wrts):
            fwd, bwd = gradient_ms(args, model, tensor, grad_out, target, wrt)
            grad_fwd[i].append(fwd)
            grad_bwd[i].append(bwd)
            if has_torch:
                torch_ms[i].append(torch_gradient_ms(args, model, tensor, target, wrt))
        print(f"  {model.stem} round {rnd + 1}/{args.rounds}: cnn-viz {cv_ms[-1]:.2f} ms, "
              f"ort {ort_ms[-1]:.2f} ms, fwd+bwd to input "
              f"{grad_fwd[0][-1] + grad_bwd[0][-1]:.2f} ms, Grad-CAM path "
              f"{grad_fwd[1][-1] + grad_bwd[1][-1]:.2f} ms", file=sys.stderr)
    cv, ortm = statistics.median(cv_ms), statistics.median(ort_ms)
    row = [model.stem, f"{cv:.2f}", f"{ortm:.2f}", f"{cv / ortm:.2f}",
           f"{max(cv_rss):.1f}", f"{max(ort_rss):.1f}", f"{diff:.2e}" + ("" if ok else " FAIL")]
    grad_rows = []
    for (label, goal), wrt, fwds, bwds, tms in zip(GRAD_PATHS, wrts, grad_fwd, grad_bwd, torch_ms):
        total = statistics.median(f + b for f, b in zip(fwds, bwds))
        ratio = total / cv
        grad_rows.append([model.stem, label, wrt, f"{statistics.median(fwds):.2f}",
                          f"{statistics.median(bwds):.2f}", f"{total:.2f}", f"{ratio:.2f}x",
                          f"<= {goal:.1f}x " + ("ok" if ratio <= goal else "MISSED"),
                          f"{statistics.median(tms):.2f}" if tms else "-"])
    return row, grad_rows, ok


FORWARD_HEAD = ["model", "cnn-viz ms", "ort ms", "cnn-viz/ort", "cnn-viz MiB", "ort MiB",
                "max|diff|"]
GRADIENT_HEAD = ["model", "gradient", "wrt", "fwd ms", "bwd ms", "fwd+bwd ms", "x cnn-viz fwd",
                 "target", "torch fwd+bwd ms"]
ATTRIBUTION_HEAD = ["model", "method", "runs x rounds", "cnn-viz ms", "peer ms", "cnn-viz/peer",
                    "target"]


def print_table(rows, head=FORWARD_HEAD):
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: " | ".join(v.ljust(w) if i == 0 else v.rjust(w)
                                for i, (v, w) in enumerate(zip(r, widths)))
    print(line(head))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def forward_tables(args, models, tensor, tmp):
    """The forward and gradient tables; returns whether anything failed."""
    _, floor = run_measured([sys.executable, "-c", "import numpy, onnxruntime"])
    print(f"interpreter floor (python + import numpy, onnxruntime): {floor:.1f} MiB peak RSS")
    print(f"{args.rounds} rounds x {args.iters} iterations; onnxruntime: 2 intra-op threads")
    has_torch = importable("torch")
    print("torch: 2 threads, same gradients\n" if has_torch else "torch: not installed\n",
          flush=True)

    rows, grad_rows, failed = [], [], False
    for model in models:
        try:
            row, grows, ok = bench_model(args, model, tensor, tmp, has_torch)
        except (RuntimeError, ValueError, KeyError, TypeError, OSError) as e:
            print(f"  {model.stem}: FAILED: {e}")
            row, ok = [model.stem] + ["-"] * 5 + ["FAIL"], False
            grows = [[model.stem, label, "-"] + ["-"] * 4 + ["FAIL", "-"]
                     for label, _ in GRAD_PATHS]
        rows.append(row)
        grad_rows += grows
        failed |= not ok
    print()
    print_table(rows)
    print()
    print_table(grad_rows, GRADIENT_HEAD)
    return failed


def importable(*modules):
    """Whether `import modules` works, tried in a child (keeps our RSS low), with
    torchvision_stub installed first as the attribution worker does."""
    code = "import torchvision_stub; torchvision_stub.install(); import " + ", ".join(modules)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=HERE).returncode == 0


def top1(args, model, tensor, out):
    """The top-1 class of cnn-viz's forward output for model."""
    res, _ = run_measured([args.cnn_viz, "run", "--model", model, "--tensor", tensor,
                           "--out", out, "--json"])
    return int(first_output(res, out)[0].argmax())


def cnnviz_attribution_ms(args, model, tensor, out, opts, cls, layer, runs):
    """cnn-viz's median attribution_ms for one map; checks the map is sane."""
    cmd = [args.cnn_viz, *opts, "--model", model, "--tensor", tensor, "--class", str(cls),
           "--out", out, "--json", "--repeat", str(runs)]
    res, _ = run_measured(cmd + (["--layer", layer] if opts[0] == "gradcam" else []))
    raw = np.load(res["results"][0]["raw"])
    if not np.isfinite(raw).all() or not raw.any():
        raise ValueError(f"{model.stem} {' '.join(opts)}: map is not finite or all zero")
    return res["timing"]["attribution_ms"]


def peer_attribution_ms(model, tensor, method, cls, layer, runs):
    """The peer's median ms for the same map (attribution_torch_worker.py)."""
    res, _ = run_measured([sys.executable, HERE / "attribution_torch_worker.py", model, tensor,
                           method, str(cls), layer, str(runs)])
    return res["attribution_ms"]


def attribution_rows(args, model, tensor, tmp, peers):
    """One attribution table row per ATTRIBUTION_METHODS entry, and whether all passed."""
    layer, _ = run_measured([sys.executable, HERE / "gradcam_layer.py", model])
    out = tmp / f"{model.stem}.attr"
    out.mkdir(exist_ok=True)
    cls = top1(args, model, tensor, out)
    print(f"  {model.stem}: class {cls}, layer {layer['name']} {layer['shape']}", flush=True)
    rows, ok = [], True
    for method, opts, runs, rounds, goal in ATTRIBUTION_METHODS:
        if args.methods and method not in args.methods.split(","):
            continue
        if method == "scorecam" and layer["shape"][1] >= SCORECAM_ONCE_FROM:
            runs, rounds = 1, 1
        cells, ratio = ["FAIL", "-"], None  # cnn-viz ms, peer ms: until measured
        cv_ms, peer_ms = [], []
        try:
            if peers[method]:
                cells[1] = "FAIL"
            for _ in range(rounds):
                cv_ms.append(cnnviz_attribution_ms(args, model, tensor, out, opts, cls,
                                                   layer["name"], runs))
                if peers[method]:
                    peer_ms.append(peer_attribution_ms(model, tensor, method, cls,
                                                       layer["name"], runs))
            cv = statistics.median(cv_ms)
            cells[0] = f"{cv:.1f}"
            if peers[method]:
                peer = statistics.median(peer_ms)
                cells[1], ratio = f"{peer:.1f}", cv / peer
        except (RuntimeError, ValueError, KeyError, IndexError, OSError) as e:
            print(f"  {model.stem} {method}: FAILED: {e}")
            ok = False
        target = "-" if goal is None else f"<= {goal:.1f}x" + (
            "" if ratio is None else " ok" if ratio <= goal else " MISSED")
        rows.append([model.stem, method, f"{runs}x{rounds}", *cells,
                     "-" if ratio is None else f"{ratio:.2f}x", target])
        per_round = " ".join(f"{a:.1f}" + (f"/{peer_ms[i]:.1f}" if i < len(peer_ms) else "")
                             for i, a in enumerate(cv_ms))
        print(f"  {model.stem} {method}: cnn-viz {cells[0]} ms, peer {cells[1]} ms "
              f"(per round, cnn-viz/peer: {per_round})", file=sys.stderr, flush=True)
    return rows, ok


def attribution_table(args, models, tensor, tmp):
    """The attribution table; returns whether anything failed."""
    has_torch = importable("torch")
    peers = {m: has_torch and importable("torch", mod) for m, (mod, _) in PEERS.items()}
    libs = {"torch": has_torch, **{name: peers[m] for m, (_, name) in PEERS.items()}}
    if len(set(libs.values())) == 1:
        state = "2 threads, same requests" if has_torch else "not installed"
        print(f"\n{' / '.join(libs)}: {state}")
    else:
        print("\n" + ", ".join(f"{k}: {'installed' if v else 'not installed'}"
                               for k, v in libs.items()))
    print("peers: pytorch-grad-cam for gradcam and scorecam (batch 32), Captum for "
          "integrated-gradients (32 steps) and smoothgrad (16 samples)\n", flush=True)
    rows, failed = [], False
    for model in models:
        if not model.exists():
            print(f"  {model}: not found, skipped")
            continue
        try:
            mrows, ok = attribution_rows(args, model, tensor, tmp, peers)
        except (RuntimeError, ValueError, KeyError, TypeError, OSError) as e:
            print(f"  {model.stem}: FAILED: {e}")
            mrows, ok = [[model.stem, m, "-", "FAIL", "-", "-", "-"]
                         for m, *_ in ATTRIBUTION_METHODS], False
        rows += mrows
        failed |= not ok
    print()
    print_table(rows, ATTRIBUTION_HEAD)
    return failed


def print_machine(args, model, tensor, tmp):
    """The CPU model, and what cnn-viz runs its kernels on (oneDNN's version, its ISA, threads)."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    res = subprocess.run([str(args.cnn_viz), "run", "--model", str(model), "--tensor", str(tensor),
                          "--out", str(tmp / "engine"), "--json", "--repeat", "1"], capture_output=True, text=True)
    engine = json.loads(res.stdout).get("engine", {}) if res.returncode == 0 else {}
    print(f"CPU: {cpu}, {os.cpu_count()} logical CPUs; cnn-viz: oneDNN {engine.get('onednn', '?')} "
          f"dispatching {engine.get('isa', '?')}, {engine.get('threads', '?')} threads, "
          f"convolutions: {engine.get('convolutions', '?')}\n", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--cnn-viz", required=True, type=Path, help="path to the cnn-viz binary")
    ap.add_argument("--models", required=True, type=Path, help="directory from make_models.py")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--only", help="benchmark only this model (file stem)")
    ap.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared",
                    help="the shared data directory, for the real SqueezeNet (default: ../shared)")
    ap.add_argument("--methods", help="comma-separated attribution methods to time (default: all)")
    ap.add_argument("--only-attribution", action="store_true",
                    help="skip the forward and gradient tables")
    args = ap.parse_args()
    args.cnn_viz = args.cnn_viz.resolve()
    if args.rounds < 1 or args.iters < 1:
        ap.error("--rounds and --iters must be at least 1")

    tensor = args.models / "input.npy"
    models = [] if args.only_attribution else sorted(args.models.glob("*.onnx"))
    attr_models = [args.models / "resnet18.onnx", args.models / "resnet50.onnx",
                   args.shared / SQUEEZENET]
    if args.only:
        models = [m for m in models if m.stem == args.only]
        attr_models = [m for m in attr_models if m.stem == args.only]
    if not tensor.exists() or not (models or attr_models):
        what = f"model {args.only!r}" if args.only else "models"
        sys.exit(f"no {what} or no input.npy in {args.models}; run bench/make_models.py")

    start, failed = time.monotonic(), False
    with tempfile.TemporaryDirectory(prefix="cnnviz-bench-") as tmp:
        print_machine(args, (models or attr_models)[0], tensor, Path(tmp))
        if models:
            failed |= forward_tables(args, models, tensor, Path(tmp))
        if attr_models:
            failed |= attribution_table(args, attr_models, tensor, Path(tmp))
    print(f"\ntotal {time.monotonic() - start:.0f} s")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
