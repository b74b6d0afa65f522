#!/usr/bin/env python3
"""Benchmark cnn-viz against onnxruntime on the models from make_models.py.

Usage:
  python3 bench/bench.py --cnn-viz PATH --models DIR [--rounds 5] [--iters 20]
                         [--only NAME]

For each DIR/*.onnx, `rounds` times, alternately:
  (i)  PATH run --model M.onnx --tensor DIR/input.npy --out TMP --json
       --repeat ITERS, which prints {"outputs": {name: .npy},
       "timing": {"forward_ms": median_ms}};
  (ii) bench/ort_worker.py M.onnx DIR/input.npy ITERS (onnxruntime, 2 intra-op
       threads), which prints {"forward_ms": median_ms, ...}.
Each runs in its own process; its peak RSS comes from os.wait4 on its pid.
After round 1 the two outputs are compared: max|diff| must be at most
1e-4 * max|ort|. Reported times are medians of the per-round medians; peak
RSS is the largest over the rounds. The exit status is 1 if any run failed or
any output disagreed.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REL_TOL = 1e-4
# ru_maxrss is in KiB on Linux, in bytes on macOS.
RSS_UNIT = 1 if sys.platform == "darwin" else 1024


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


def bench_model(args, model, tensor, tmp):
    """Alternate cnn-viz and onnxruntime runs; return one table row."""
    cv_ms, ort_ms, cv_rss, ort_rss, diff = [], [], [], [], None
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
        print(f"  {model.stem} round {rnd + 1}/{args.rounds}: cnn-viz {cv_ms[-1]:.2f} ms, "
              f"ort {ort_ms[-1]:.2f} ms", file=sys.stderr)
    cv, ortm = statistics.median(cv_ms), statistics.median(ort_ms)
    row = [model.stem, f"{cv:.2f}", f"{ortm:.2f}", f"{cv / ortm:.2f}",
           f"{max(cv_rss):.1f}", f"{max(ort_rss):.1f}", f"{diff:.2e}" + ("" if ok else " FAIL")]
    return row, ok


def print_table(rows):
    head = ["model", "cnn-viz ms", "ort ms", "cnn-viz/ort", "cnn-viz MiB", "ort MiB", "max|diff|"]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: " | ".join(v.ljust(w) if i == 0 else v.rjust(w)
                                for i, (v, w) in enumerate(zip(r, widths)))
    print(line(head))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--cnn-viz", required=True, type=Path, help="path to the cnn-viz binary")
    ap.add_argument("--models", required=True, type=Path, help="directory from make_models.py")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--only", help="benchmark only this model (file stem)")
    args = ap.parse_args()
    args.cnn_viz = args.cnn_viz.resolve()
    if args.rounds < 1 or args.iters < 1:
        ap.error("--rounds and --iters must be at least 1")

    tensor = args.models / "input.npy"
    models = sorted(args.models.glob("*.onnx"))
    if args.only:
        models = [m for m in models if m.stem == args.only]
    if not tensor.exists() or not models:
        what = f"model {args.only!r}" if args.only else "models"
        sys.exit(f"no {what} or no input.npy in {args.models}; run bench/make_models.py")

    _, floor = run_measured([sys.executable, "-c", "import numpy, onnxruntime"])
    print(f"interpreter floor (python + import numpy, onnxruntime): {floor:.1f} MiB peak RSS")
    print(f"{args.rounds} rounds x {args.iters} iterations; onnxruntime: 2 intra-op threads\n",
          flush=True)

    rows, failed = [], False
    with tempfile.TemporaryDirectory(prefix="cnnviz-bench-") as tmp:
        for model in models:
            try:
                row, ok = bench_model(args, model, tensor, Path(tmp))
            except (RuntimeError, ValueError, KeyError, TypeError, OSError) as e:
                print(f"  {model.stem}: FAILED: {e}")
                row, ok = [model.stem] + ["-"] * 5 + ["FAIL"], False
            rows.append(row)
            failed |= not ok
    print()
    print_table(rows)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
