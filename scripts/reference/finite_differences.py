#!/usr/bin/env python3
"""Float64 central finite differences of one logit through whole ONNX models.

Usage: python3 scripts/reference/finite_differences.py OUTDIR [--shared PATH]

For each case (SqueezeNet 1.1 fp32 and the two MNIST nets in SHARED/data/models)
this computes, for L = logits.flatten()[class],

    dL/dt[i] ~ (L(t + h e_i) - L(t - h e_i)) / 2h,   h = 1e-4 * (max(t) - min(t)),

at 200 random flat indices i of t = the model input and t = one intermediate
tensor (perturbing the intermediate with everything upstream held fixed, as a
hook does). Cnn-viz's reverse-mode gradients are checked against these values.

Why float64: in float32 the rounding of the logit (~1e-7 of |L|, times the
depth of SqueezeNet) is of the same order as L(t + h e_i) - L(t - h e_i) for a
single input pixel, so float32 differences are mostly noise. Here a small NumPy
evaluator recomputes the graph in float64 from the ONNX operator definitions
(onnx.defs.get_schema(op).doc), independently of both onnxruntime and cnn-viz.
It is checked once per model against onnxruntime in float32 (1e-4 relative).

All these models are piecewise linear up to the logits (Conv, Relu, MaxPool,
Concat, GlobalAveragePool, MatMul/Gemm, Add), so inside a linear region the
central difference is the exact gradient up to float64 rounding. A probe whose
one-sided differences (L(t+h e_i) - L(t)) / h and (L(t) - L(t-h e_i)) / h
disagree crossed a ReLU / max-pool kink; it is flagged in "crosses_kink".

Writes OUTDIR/finite_differences.json:
  {"cases": [{"model": abs path, "input_name", "input": abs OUTDIR/fd_<stem>_input.npy
     (float32, the exact input; the float64 evaluation uses these float32 values),
     "logits", "class", "probes": [{"tensor", "indices": [200 ints],
     "finite_differences": [200 floats], "step": h, "crosses_kink": [200 bools]}, ...]}]}

Randomness: the input is drawn from np.random.default_rng(seed); the indices of
probe k (0 = input, 1 = intermediate) from np.random.default_rng(seed + 1 + k),
choice without replacement. A missing model file skips its case (stderr note).
"""

import argparse
import itertools
import json
import math
import os
import sys
import time
from pathlib import Path

# Single-threaded BLAS (set before numpy loads it): on this 2-core machine a 2-thread
# OpenBLAS stalls whenever the other core is busy (230 ms instead of 47 ms per
# SqueezeNet forward while a Swift build runs), and the matrices here are small.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import numpy_helper  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]  # scripts/reference/ -> repo
DEFAULT_SHARED = Path(os.environ.get("CNNVIZ_SHARED", REPO_ROOT.parent / "shared"))

PROBES = 200
STEP = 1e-4        # h = STEP * (max(t) - min(t))
VALIDATION = 1e-4  # max|float64 - ort float32| / max|ort float32|

CASES = [
    dict(model="squeezenet1.1_fp32_from_winml_fp16.onnx", shape=[1, 3, 224, 224],
         low=-120.0, high=120.0, seed=2024, logits="pool10_1", cls=281,
         intermediate="fire7/concat_1"),
    dict(model="winml_mnist.onnx", shape=[1, 1, 28, 28], low=0.0, high=255.0, seed=7,
         logits="Plus214_Output_0", cls=3, intermediate="Pooling66_Output_0"),
    dict(model="wonnx_opt-mnist.onnx", shape=[1, 1, 28, 28], low=0.0, high=1.0, seed=8,
         logits="Plus214_Output_0", cls=5, intermediate="Pooling160_Output_0"),
]


# ------------------------------------------------------------ geometry

def explicit_pads(attrs, spatial, kernel, strides, dilations):
    """(begin, end) pads per spatial axis from pads / auto_pad (SAME_*: out = ceil(in / s))."""
    auto_pad = attrs.get("auto_pad", "NOTSET")
    r = len(spatial)
    if auto_pad == "NOTSET":
        pads = attrs.get("pads", [0] * (2 * r))
        return list(pads[:r]), list(pads[r:])
    if auto_pad == "VALID":
        return [0] * r, [0] * r
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for n, k, s, d in zip(spatial, kernel, strides, dilations):
            out = -(-n // s)
            total = max(0, (out - 1) * s + (k - 1) * d + 1 - n)
            small, large = total // 2, total - total // 2
            begin.append(small if auto_pad == "SAME_UPPER" else large)
            end.append(large if auto_pad == "SAME_UPPER" else small)
        return begin, end
    raise ValueError(f"unsupported auto_pad {auto_pad!r}")


def window_geometry(attrs, spatial, kernel, ceil_mode=False):
    """Strides, dilations, begin pads, end pads (grown for ceil_mode) and output size:
    out = floor_or_ceil((in + pads - ((k - 1) * d + 1)) / s) + 1, dropping a last window
    that would start in the end padding."""
    r = len(spatial)
    strides = list(attrs.get("strides", [1] * r))
    dilations = list(attrs.get("dilations", [1] * r))
    begin, end = explicit_pads(attrs, spatial, kernel, strides, dilations)
    ceil_mode = ceil_mode and attrs.get("auto_pad", "NOTSET") == "NOTSET"
    out = []
    for i in range(r):
        span = (kernel[i] - 1) * dilations[i] + 1
        room = spatial[i] + begin[i] + end[i] - span
        o = (-(-room // strides[i]) if ceil_mode else room // strides[i]) + 1
        if ceil_mode and (o - 1) * strides[i] >= spatial[i] + begin[i]:
            o -= 1
        end[i] = max(end[i], (o - 1) * strides[i] + span - begin[i] - spatial[i])
        out.append(o)
    return strides, dilations, begin, end, out


def pad(x, begin, end, value):
    """x padded with `value` on its spatial axes (2 ..)."""
    if not any(begin) and not any(end):
        return x
    widths = [(0, 0), (0, 0)] + list(zip(begin, end))
    return np.pad(x, widths, mode="constant", constant_values=value)


def window_slices(xp, kernel, strides, dilations, out):
    """For each kernel offset k: the view xp[..., o * s + k * d] over all outputs o."""
    for offset in itertools.product(*(range(k) for k in kernel)):
        yield xp[(slice(None), slice(None)) + tuple(
            slice(k * d, k * d + (o - 1) * s + 1, s)
            for k, d, s, o in zip(offset, dilations, strides, out))]


# ------------------------------------------------------------ operators

def op_conv(attrs, x, w, b=None):
    """Y[n, m, o] = B[m] + sum_{c, k} W[m, c, k] * Xpad[n, g(m) * C/G + c, o * s + k * d]."""
    n, c = x.shape[:2]
    spatial, kernel = x.shape[2:], list(attrs.get("kernel_shape", w.shape[2:]))
    groups = attrs.get("group", 1)
    strides, dilations, begin, end, out = window_geometry(attrs, spatial, kernel)
    xp = np.ascontiguousarray(pad(x, begin, end, 0.0))
    r = len(spatial)
    # im2col: a strided view [N, C, *K, *O], copied by reshape into [N, G, C/G * prod K, prod O].
    view = np.lib.stride_tricks.as_strided(
        xp, shape=(n, c, *kernel, *out),
        strides=xp.strides[:2] + tuple(xp.strides[2 + i] * dilations[i] for i in range(r))
        + tuple(xp.strides[2 + i] * strides[i] for i in range(r)), writeable=False)
    cols = view.reshape(n, groups, (c // groups) * math.prod(kernel), math.prod(out))
    m = w.shape[0]
    y = np.matmul(w.reshape(1, groups, m // groups, -1), cols).reshape(n, m, *out)
    if b is not None:
        y += b.reshape((1, m) + (1,) * r)
    return y


def op_max_pool(attrs, x):
    """Y[n, c, o] = max_k Xpad[n, c, o * s + k * d], padding = -inf (ignored)."""
    if attrs.get("storage_order", 0) not in (0,):
        raise NotImplementedError("MaxPool storage_order != 0")
    kernel = attrs["kernel_shape"]
    strides, dilations, begin, end, out = window_geometry(
        attrs, x.shape[2:], kernel, attrs.get("ceil_mode", 0))
    xp = pad(x, begin, end, -np.inf)
    slices = window_slices(xp, kernel, strides, dilations, out)
    y = next(slices).copy()
    for s in slices:
        np.maximum(y, s, out=y)
    return y


def op_average_pool(attrs, x):
    """Y[n, c, o] = sum_k Xpad[n, c, o * s + k * d] / count (count excludes pads unless
    count_include_pad; the ceil_mode extension is never counted)."""
    kernel = attrs["kernel_shape"]
    strides, dilations, begin, end, out = window_geometry(
        attrs, x.shape[2:], kernel, attrs.get("ceil_mode", 0))
    total = sum(window_slices(pad(x, begin, end, 0.0), kernel, strides, dilations, out))
    mask = np.ones((1, 1) + x.shape[2:])
    if attrs.get("count_include_pad", 0):
        explicit_begin, explicit_end = explicit_pads(attrs, x.shape[2:], kernel, strides, dilations)
        mask = pad(mask, explicit_begin, explicit_end, 1.0)
        begin = [b - e for b, e in zip(begin, explicit_begin)]
        end = [b - e for b, e in zip(end, explicit_end)]
    count = sum(window_slices(pad(mask, begin, end, 0.0), kernel, strides, dilations, out))
    return total / count


def op_global_average_pool(attrs, x):
    """Y[n, c, 1, ..] = mean over the spatial axes of X[n, c, ..]."""
    return x.mean(axis=tuple(range(2, x.ndim)), keepdims=True)


def op_relu(attrs, x):
    """Y = max(X, 0)."""
    return np.maximum(x, 0.0)


def op_concat(attrs, *xs):
    """Y = the inputs joined along `axis`."""
    return np.concatenate(xs, axis=attrs["axis"])


def op_dropout(attrs, x, *optional):
    """Y = X (inference), mask = all true."""
    return x, np.ones(x.shape, dtype=bool)


def op_softmax(attrs, x, opset):
    """Y = exp(X) / sum exp(X): over axis (default -1) from opset 13, before that over the
    flattened axes [axis:] (default 1) of X coerced to 2-D."""
    if opset >= 13:
        axis = attrs.get("axis", -1)
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)
    axis = attrs.get("axis", 1) % max(x.ndim, 1)
    flat = x.reshape(math.prod(x.shape[:axis]), -1)
    e = np.exp(flat - flat.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).reshape(x.shape)


def op_add(attrs, a, b):
    """C = A + B (multidirectional broadcasting)."""
    return a + b


def op_matmul(attrs, a, b):
    """Y = A @ B (numpy.matmul semantics)."""
    return np.matmul(a, b)


def op_gemm(attrs, a, b, c=None):
    """Y = alpha * A' @ B' + beta * C, with A' = A^T if transA, B' = B^T if transB."""
    a = a.T if attrs.get("transA", 0) else a
    b = b.T if attrs.get("transB", 0) else b
    y = attrs.get("alpha", 1.0) * (a @ b)
    return y if c is None else y + attrs.get("beta", 1.0) * c


def op_reshape(attrs, x, shape=None):
    """Y = X reshaped; a 0 copies the input dimension (unless allowzero), a -1 is inferred."""
    shape = [int(d) for d in (attrs["shape"] if shape is None else shape)]
    if not attrs.get("allowzero", 0):
        shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(shape)


def op_flatten(attrs, x):
    """Y = X as 2-D [prod(shape[:axis]), prod(shape[axis:])] (axis default 1)."""
    axis = attrs.get("axis", 1)
    axis += x.ndim if axis < 0 else 0
    return x.reshape(math.prod(x.shape[:axis]), -1)


OPS = {
    "Conv": op_conv, "Relu": op_relu, "MaxPool": op_max_pool, "AveragePool": op_average_pool,
    "GlobalAveragePool": op_global_average_pool, "Concat": op_concat, "Dropout": op_dropout,
    "Softmax": op_softmax, "Add": op_add, "MatMul": op_matmul, "Gemm": op_gemm,
    "Reshape": op_reshape, "Flatten": op_flatten,
}
NEEDS_OPSET = {"Softmax"}


# ------------------------------------------------------------ evaluator

def to_float64(array):
    """Floating tensors as float64; integer tensors (shapes) as int64."""
    return array.astype(np.float64 if array.dtype.kind == "f" else np.int64)


class Evaluator:
    """Float64 evaluation of an ONNX graph, nodes in file order (assumed topological)."""

    def __init__(self, model):
        graph = model.graph
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
        self.nodes = list(graph.node)
        for node in self.nodes:
            if node.domain not in ("", "ai.onnx") or node.op_type not in OPS:
                raise NotImplementedError(
                    f"op {node.domain or 'ai.onnx'}:{node.op_type} (node {node.name!r}) is not "
                    f"implemented by this float64 reference; supported: {', '.join(sorted(OPS))}")
        self.attrs = [{a.name: self._attribute(a) for a in node.attribute} for node in self.nodes]
        self.constants = {t.name: to_float64(numpy_helper.to_array(t)) for t in graph.initializer}
        # With IR < 4 initializers are graph inputs too; the real inputs have no initializer.
        self.inputs = [i.name for i in graph.input if i.name not in self.constants]
        self.producer = {out: k for k, node in enumerate(self.nodes) for out in node.output if out}
        self.tensor_names = list(self.inputs) + list(self.producer)
        self._plans = {}

    @staticmethod
    def _attribute(attribute):
        value = onnx.helper.get_attribute_value(attribute)
        if isinstance(value, bytes):
            return value.decode()
        if isinstance(value, list):
            return [v.decode() if isinstance(v, bytes) else v for v in value]
        return value

    def plan(self, target, overridden, cached):
        """Node indices to run, in order: the ancestors of `target` (not looking past
        overridden tensors) and, when the other values are cached, only those that
        depend on an overridden tensor."""
        key = (target, overridden, cached)
        if key not in self._plans:
            needed, stack = set(), [target]
            while stack:
                name = stack.pop()
                k = self.producer.get(name)
                if name in overridden or k is None or k in needed:
                    continue
                needed.add(k)
                stack.extend(i for i in self.nodes[k].input if i)
            if cached:
                tainted = set(overridden)
                for k, node in enumerate(self.nodes):
                    if any(i in tainted for i in node.input):
                        tainted.update(node.output)
                    elif k in needed:
                        needed.discard(k)
            self._plans[key] = sorted(needed)
        return self._plans[key]

    def run(self, feeds, targets=None, override=None, cache=None):
        """All computed values (dict) for the graph on `feeds`; `override` = {tensor: value}
        replaces those tensors (their producers are skipped). With `cache` (a previous
        run's values) only the nodes downstream of the overrides are recomputed."""
        override = override or {}
        targets = list(targets or self.producer)
        values = dict(self.constants)
        values.update(cache or {})
        values.update({k: np.asarray(v, np.float64) for k, v in feeds.items()})
        values.update(override)
        plan = sorted(set().union(*(self.plan(t, frozenset(override), cache is not None)
                                    for t in targets)))
        for k in plan:
            node = self.nodes[k]
            try:
                args = [values[i] if i else None for i in node.input]
            except KeyError as missing:
                raise ValueError(f"node {node.name!r} ({node.op_type}) needs {missing}, which is "
                                 "neither fed nor computed earlier (graph not topologically sorted?)")
            while args and args[-1] is None:
                args.pop()
            extra = (self.opset,) if node.op_type in NEEDS_OPSET else ()
            result = OPS[node.op_type](self.attrs[k], *args, *extra)
            results = result if isinstance(result, tuple) else (result,)
            for name, value in zip(node.output, results):
                if name:
                    values[name] = value
        return values

    def evaluate(self, feeds, target, override=None, cache=None):
        """The value of `target` (see run)."""
        return self.run(feeds, [target], override, cache)[target]


# ------------------------------------------------------------ reference run

def onnxruntime_values(model, feeds, names):
    """onnxruntime float32 values of `names` (exposed as extra graph outputs)."""
    exposed = onnx.ModelProto()
    exposed.CopyFrom(model)
    present = {o.name for o in model.graph.output}
    for name in names:
        if name not in present:
            exposed.graph.output.append(
                onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    session = ort.InferenceSession(exposed.SerializeToString(), opts,
                                   providers=["CPUExecutionProvider"])
    return dict(zip(names, session.run(names, feeds)))


def validate(model, evaluator, feeds32, values, names, label):
    """Abort unless the float64 values agree with onnxruntime float32 to VALIDATION."""
    reference = onnxruntime_values(model, feeds32, names)
    for name in names:
        ref = reference[name].astype(np.float64)
        got = values[name]
        if got.shape != ref.shape:
            sys.exit(f"{label}: float64 {name} has shape {got.shape}, onnxruntime {ref.shape}")
        relative = np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-30)
        print(f"  validation {name}{list(ref.shape)}: max|float64 - ort float32| / max|ort| "
              f"= {relative:.2e}")
        if not relative <= VALIDATION:
            sys.exit(f"{label}: float64 evaluator disagrees with onnxruntime on {name} "
                     f"({relative:.2e} > {VALIDATION:g}); not writing finite differences")


def central_differences(evaluator, feeds, cache, logits, cls, tensor, indices, step):
    """(L(t + h e_i) - L(t - h e_i)) / 2h for each i, and whether the one-sided
    differences disagree (a kink was crossed)."""
    base = cache[tensor]
    l0 = float(evaluator.evaluate(feeds, logits, cache=cache).reshape(-1)[cls])

    def logit(i, delta):
        t = base.copy().reshape(-1)
        t[i] += delta
        return float(evaluator.evaluate(feeds, logits, {tensor: t.reshape(base.shape)},
                                        cache).reshape(-1)[cls])

    differences, kinks = [], []
    for i in indices:
        plus, minus = logit(i, step), logit(i, -step)
        differences.append((plus - minus) / (2 * step))
        forward, backward = (plus - l0) / step, (l0 - minus) / step
        noise = 1e-12 * max(abs(l0), abs(plus), abs(minus)) / step
        kinks.append(bool(abs(forward - backward) > 1e-6 * max(abs(forward), abs(backward)) + noise))
    return differences, kinks


def run_case(case, models_dir, outdir):
    path = models_dir / case["model"]
    if not path.is_file():
        print(f"finite_differences: {path} not found, skipping {case['model']}", file=sys.stderr)
        return None
    stem = path.stem
    print(f"{stem}:")
    model = onnx.load(path)
    evaluator = Evaluator(model)
    missing = [n for n in (case["logits"], case["intermediate"]) if n not in evaluator.tensor_names]
    if missing:
        sys.exit(f"{stem}: tensors {missing} not in the graph; its tensors are:\n  "
                 + "\n  ".join(evaluator.tensor_names))
    input_name = evaluator.inputs[0]

    rng = np.random.default_rng(case["seed"])
    x32 = rng.uniform(case["low"], case["high"], size=case["shape"]).astype(np.float32)
    input_path = outdir / f"fd_{stem}_input.npy"
    np.save(input_path, x32)
    feeds = {input_name: x32.astype(np.float64)}

    start = time.perf_counter()
    values = evaluator.run(feeds)
    print(f"  float64 forward {1e3 * (time.perf_counter() - start):.0f} ms")
    validate(model, evaluator, {input_name: x32}, values,
             [case["logits"], case["intermediate"]], stem)
    l0 = values[case["logits"]].reshape(-1)[case["cls"]]
    print(f"  L = {case['logits']}[{case['cls']}] = {l0:.6g}")

    probes = []
    for k, tensor in enumerate([input_name, case["intermediate"]]):
        start = time.perf_counter()
        t = values[tensor]
        step = STEP * float(t.max() - t.min())
        indices = np.random.default_rng(case["seed"] + 1 + k).choice(
            t.size, size=min(PROBES, t.size), replace=False)
        differences, kinks = central_differences(
            evaluator, feeds, values, case["logits"], case["cls"], tensor, indices, step)
        probes.append({"tensor": tensor, "indices": [int(i) for i in indices],
                       "finite_differences": differences, "step": step,
                       "crosses_kink": kinks})
        print(f"  d L / d {tensor}{list(t.shape)}: h = {step:.6g}, {len(indices)} probes in "
              f"{time.perf_counter() - start:.1f} s, {sum(kinks)} cross a kink; first 5: "
              + ", ".join(f"[{i}] {d:.9g}" for i, d in zip(indices[:5], differences[:5])))
    return {"model": str(path.resolve()), "input_name": input_name, "input": str(input_path),
            "logits": case["logits"], "class": case["cls"], "probes": probes}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help=f"shared data directory (default {DEFAULT_SHARED})")
    args = parser.parse_args(argv)
    outdir = args.outdir.resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    cases = [c for c in (run_case(case, args.shared / "data" / "models", outdir)
                         for case in CASES) if c is not None]
    out = outdir / "finite_differences.json"
    out.write_text(json.dumps({"cases": cases}, indent=1) + "\n")
    print(f"{len(cases)} cases -> {out} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
