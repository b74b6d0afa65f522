#!/usr/bin/env python3
"""Real exports beside onnxruntime: ultralytics YOLOv8n at 640×640 and the CRNNs (BiLSTM, BiGRU).

Usage: python3 bench/bench_exports.py --cnn-viz PATH [--exports DIR] [--rounds 5] [--iters 10]

The models come from scripts/reference/real_exports.py (seeded weights; `make test` writes
them into .build/reference/exports; if DIR/exports.json is missing this script runs it for
families a and b). For each case, `rounds` times, alternately, in their own processes:
  cnn-viz run --model M --feed NAME=X.npy --repeat ITERS --json  (median forward ms), and
  bench/ort_worker.py M X.npy ITERS                              (onnxruntime, 2 threads).
The table gives the median of the per-round medians, peak RSS, and cnn-viz / onnxruntime.
Outputs are compared once (max|diff| ≤ 1e-4·max|ort|); the exit status is 1 if any differ.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import run_measured  # noqa: E402

CASES = ["yolov8n_opset12_static", "yolov8n_opset17_dynamic", "crnn_lstm", "crnn_gru", "ddddocr_common_crnn"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cnn-viz", required=True)
    parser.add_argument("--exports", default=str(HERE.parent / ".build/reference/exports"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iters", type=int, default=10)
    args = parser.parse_args()
    manifest = Path(args.exports) / "exports.json"
    if not manifest.exists():
        subprocess.run([sys.executable, HERE.parent / "scripts/reference/real_exports.py", Path(args.exports).parent,
                        "--only", "a,b"], check=True)
    exports = {c["name"]: c for c in json.loads(manifest.read_text())["exports"]}
    ok = True
    print(f"{'model':<28}{'input':<18}{'cnn-viz ms':>11}{'ort ms':>9}{'ratio':>7}{'cnn-viz MiB':>13}{'ort MiB':>9}")
    for name in CASES:
        case = exports.get(name)
        if case is None:
            print(f"{name:<28}not in {manifest}")
            continue
        (input_name, tensor), = case["inputs"].items()
        cv, ort, cv_rss, ort_rss = [], [], [], []
        with tempfile.TemporaryDirectory() as tmp:
            for round_ in range(args.rounds):
                res, rss = run_measured([args.cnn_viz, "run", "--model", case["model"], "--feed", f"{input_name}={tensor}",
                                         "--out", tmp, "--json", "--repeat", str(args.iters)])
                cv.append(res["timing"]["forward_ms"]); cv_rss.append(rss)
                out = Path(tmp) / "ort.npy"
                res_ort, rss = run_measured([sys.executable, HERE / "ort_worker.py", case["model"], tensor, str(args.iters), out])
                ort.append(res_ort["forward_ms"]); ort_rss.append(rss)
                if round_ == 0:
                    ours = np.load(next(iter(res["outputs"].values())))
                    theirs = np.load(out)
                    if ours.shape != theirs.shape or np.abs(ours - theirs).max() > 1e-4 * np.abs(theirs).max():
                        print(f"{name}: outputs differ from onnxruntime")
                        ok = False
        shape = "x".join(map(str, next(iter(case["input_shape"].values()))))
        c, o = statistics.median(cv), statistics.median(ort)
        print(f"{name:<28}{shape:<18}{c:>11.1f}{o:>9.1f}{c / o:>7.2f}{max(cv_rss):>13.0f}{max(ort_rss):>9.0f}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
