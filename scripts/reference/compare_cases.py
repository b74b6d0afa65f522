"""Prints the whole-model comparison table: cnn-viz (through `cnn-viz run`) against the
references that make_references.py wrote, as max|ours - ref| / max|ref| and top-1 agreement.

    python3 scripts/reference/compare_cases.py .build/release/cnn-viz .build/reference

The hook case is left out: `cnn-viz run` has no hook option; the XCTest suite covers it.
"""
import json
import subprocess
import sys
import tempfile

import numpy as np


def main(binary, reference_dir):
    cases = json.load(open(f"{reference_dir}/cases.json"))["cases"]
    print(f"{'case':52s} {'output':18s} {'max|diff|/max|ref|':>18s}  top-1")
    worst = 0.0
    for case in cases:
        if case.get("replace"):
            continue
        with tempfile.TemporaryDirectory() as out:
            command = [binary, "run", "--model", case["model"], "--out", out, "--json"]
            for name, path in case["inputs"].items():
                command += ["--feed", f"{name}={path}"]
            for name in case["expected"]:
                command += ["--output", name]
            manifest = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
            for name, path in case["expected"].items():
                ref = np.load(path).astype(np.float64).ravel()
                ours = np.load(manifest["outputs"][name]).astype(np.float64).ravel()
                relative = np.abs(ours - ref).max() / max(np.abs(ref).max(), 1e-30)
                worst = max(worst, relative)
                same = "same" if np.argmax(ours) == np.argmax(ref) or np.ptp(ref) == 0 else "DIFFERENT"
                print(f"{case['name']:52s} {name:18s} {relative:18.2e}  {same}")
    print(f"worst relative difference: {worst:.2e} (bound 1e-4)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
