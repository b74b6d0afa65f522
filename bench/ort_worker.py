#!/usr/bin/env python3
"""Time one model with onnxruntime, in its own process (for peak RSS).

Usage: python3 bench/ort_worker.py MODEL.onnx INPUT.npy ITERS [OUT.npy]

CPUExecutionProvider, intra_op_num_threads=2, inter_op_num_threads=1.
One warm-up run, then ITERS timed runs. Prints one JSON line:
  {"forward_ms": median_ms, "outputs": {name: OUT.npy}}
where OUT.npy (if given) holds the first graph output of the last run.
"""

import json
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__.strip().splitlines()[2])
    model, tensor, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    feed = {sess.get_inputs()[0].name: np.load(tensor)}
    out_name = sess.get_outputs()[0].name

    y = sess.run([out_name], feed)[0]  # warm-up
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        y = sess.run([out_name], feed)[0]
        times.append((time.perf_counter() - t0) * 1e3)

    outputs = {}
    if len(sys.argv) == 5:
        np.save(sys.argv[4], y)
        outputs[out_name] = sys.argv[4]
    print(json.dumps({"forward_ms": statistics.median(times), "outputs": outputs}))


if __name__ == "__main__":
    main()
