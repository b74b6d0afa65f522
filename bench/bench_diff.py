#!/usr/bin/env python3
"""Benchmark `cnn-viz diff` with two models against two plain forward passes.

Usage:
  python3 bench/bench_diff.py --cnn-viz PATH [--shared DIR] [--rounds 7]

Alternately, `rounds` times, each in its own process (wall time and peak RSS from os.wait4):
  (i)   PATH diff IMAGE --model FP16 --model-b FP32 --preprocess caffe --json
        (both runs spilled layer by layer to disk, then compared pair by pair);
  (ii)  PATH run --model FP16 --tensor X.npy and PATH run --model FP32 --tensor X.npy,
        the two forward passes the diff cannot avoid (model load included in both);
  (iii) two floors for the memory budget: PATH --help (the process: Swift runtime and
        libraries) and PATH run on the embedded shapes model with a zero input (the process
        plus the runtime's fixed cost: worker threads, OpenBLAS, kernels' code; 0.25 MiB of
        weights and 0.5 MiB of activations).
Reports medians: diff time / (run A + run B) against the target 3, and the diff's peak RSS
above each floor against both models' Float32 weights plus 3x the largest activation (from
`cnn-viz summary --json`). The target is met above the runtime floor: the runtime's fixed
cost is not "model" or "activation" memory.
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
RSS_UNIT = 1024 if sys.platform.startswith("linux") else 1


def measured(cmd):
    """(wall seconds, peak RSS MiB, stdout) of one run of cmd in its own process."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 3):
            raise RuntimeError(f"{' '.join(map(str, cmd))} exited with {code}")
        out.seek(0)
        return seconds, usage.ru_maxrss * RSS_UNIT / 2**20, out.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnn-viz", required=True, type=Path)
    ap.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    binary = str(args.cnn_viz.resolve())
    models = args.shared / "data" / "models"
    fp16, fp32 = models / "winml_squeezenet1.1_fp16.onnx", models / "squeezenet1.1_fp32_from_winml_fp16.onnx"
    image = args.shared / "data" / "images" / "skimage_chelsea.png"
    for path in (fp16, fp32, image):
        if not path.exists():
            sys.exit(f"missing {path}")
    with tempfile.TemporaryDirectory() as tmp:
        tensor = Path(tmp) / "x.npy"
        shapes_input = Path(tmp) / "shapes.npy"
        np.save(shapes_input, np.zeros((1, 3, 64, 64), np.float32))
        subprocess.run([binary, "activations", str(image), "--model", str(fp32), "--preprocess", "caffe", "--layer", "data_0",
                        "--out", tmp], check=True, stdout=subprocess.DEVNULL)
        os.replace(Path(tmp) / "data_0.npy", tensor)
        diff = [binary, "diff", str(image), "--model", str(fp16), "--model-b", str(fp32), "--preprocess", "caffe", "--json"]
        run_a = [binary, "run", "--model", str(fp16), "--tensor", str(tensor), "--out", tmp]
        run_b = [binary, "run", "--model", str(fp32), "--tensor", str(tensor), "--out", tmp]
        times = {"diff": [], "a": [], "b": [], "floor": []}
        rss = {"diff": 0.0, "floor": 0.0, "runtime": 0.0}
        runtime_floor = [binary, "run", "--tensor", str(shapes_input), "--out", tmp]
        for _ in range(args.rounds):
            seconds, peak, _ = measured(diff)
            times["diff"].append(seconds)
            rss["diff"] = max(rss["diff"], peak)
            times["a"].append(measured(run_a)[0])
            times["b"].append(measured(run_b)[0])
            rss["floor"] = max(rss["floor"], measured([binary, "--help"])[1])
            rss["runtime"] = max(rss["runtime"], measured(runtime_floor)[1])
        summary = json.loads(subprocess.run([binary, "summary", "--model", str(fp32), "--json"], check=True,
                                            capture_output=True).stdout)
        layers = summary["layers"] if isinstance(summary, dict) else summary
        largest = max(4 * max(1, int(__import__("math").prod(layer["shape"]))) for layer in layers) / 2**20
        weights = 2 * 4 * sum(layer["parameters"] for layer in layers) / 2**20
        d, a, b = (statistics.median(times[k]) for k in ("diff", "a", "b"))
        budget = weights + 3 * largest
        print(f"SqueezeNet 1.1 fp16 vs fp32, {args.rounds} rounds, medians")
        print(f"  diff (two models, 66 layers)        {1000 * d:7.1f} ms   peak RSS {rss['diff']:6.1f} MiB")
        print(f"  run A + run B (two forwards)        {1000 * (a + b):7.1f} ms   ratio {d / (a + b):.2f}x (target <= 3)")
        print(f"  process floor (cnn-viz --help)                     peak RSS {rss['floor']:6.1f} MiB")
        print(f"  runtime floor (run on the shapes model)            peak RSS {rss['runtime']:6.1f} MiB")
        print(f"  budget: both models' weights {weights:.1f} MiB + 3 x largest activation {largest:.1f} MiB = {budget:.1f} MiB")
        for key, name in (("floor", "process"), ("runtime", "runtime")):
            above = rss["diff"] - rss[key]
            print(f"  diff above the {name} floor {above:6.1f} MiB: {'within' if above <= budget else 'OVER'} the budget")


if __name__ == "__main__":
    main()
