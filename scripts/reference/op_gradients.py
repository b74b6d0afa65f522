#!/usr/bin/env python3
"""Float64 central finite-difference gradients of single-node ONNX models, one per op case.

Usage: python3 scripts/reference/op_gradients.py OUTDIR [--only SUBSTRING ...]

Each case is one ONNX node (ai.onnx domain, opset 18 unless the op needs another) with
fixed attributes. Its differentiable float inputs are graph inputs; everything else
(indices, axes, repeats, k, condition, sequence_lens, rois, shapes, ...) is an
initializer. For a cotangent r of the seeded output y the case records

    dL/dx[i] ~ (L(x + h_i e_i) - L(x - h_i e_i)) / 2 h_i,   L(x) = sum(r * y(x)),
    h_i = STEP * max(1, |x[i]|),

for EVERY element i of every differentiable input x, in float64. Cnn-viz's reverse-mode
rules (vector-Jacobian products) are checked against these values: its backward pass
seeded with r on y must give these gradients.

Method, per case:
 1. The node is built twice with onnx.helper: in float32 (written to OUTDIR) and as a
    float64 copy (every float tensor DOUBLE, except Resize / Upsample scales, which are
    tensor(float) by definition; GroupNormalization also gets stash_type=11 there,
    because stash_type=1 would round its first stage to float32).
 2. The float inputs are drawn from np.random.default_rng(seed) as float32 values, away
    from the op's kinks (distinct values for ReduceMax/Min/TopK, MaxPool, GlobalMaxPool
    and variadic Max/Min (jointly over the inputs), |x| >= 0.1 where |x| appears and for
    the kink at 0 of Relu / LeakyRelu / Elu / Selu / PRelu, HardSigmoid / HardSwish /
    Clip inputs >= 0.05 from their breakpoints, positive Log / Sqrt inputs and Pow bases,
    divisors |x| >= 0.5, fmod quotients with fractional part in [0.2, 0.8],
    ThresholdedRelu inputs >= 0.1 from alpha, GridSample source coordinates with
    fractional part in [0.1, 0.9], RNN Relu pre-activations >= 0.02 from 0, ...). The
    float64 evaluation uses exactly these float32 values. The cotangent r (output shape,
    U(-1, 1)) is float32 too.
 3. The float64 evaluator is onnx.reference.ReferenceEvaluator on the float64 model,
    or, where that lacks a feature or is not float64-exact, a small torch float64
    implementation of the ONNX definition (field "evaluator"):
      - GridSample: the reference rounds denormalised coordinates to float32
        -> torch.nn.functional.grid_sample (same definition: bilinear, zeros / border,
        align_corners).
      - AffineGrid: the reference returns float32 -> torch.nn.functional.affine_grid.
      - MeanVarianceNormalization: its function body has a float32 Epsilon constant,
        which the reference refuses to add to float64 -> the body's formula in torch.
      - LpNormalization p=1: the reference sums x^p instead of |x|^p -> torch.
      - LSTM / GRU / RNN with sequence_lens, input_forget or non-default activations:
        the reference ignores those -> the recurrences below, in torch float64.
      - ConvTranspose with group > 1: the reference mis-reshapes W -> the full
        transposed convolution (torch), output_padding appended, pads cropped.
      - LRN: the reference's channel window loops over the batch axis -> torch.
      - Softmax / LogSoftmax before opset 13: the reference ignores the coercion to 2-D
        -> torch on the 2-D view.
      - Erf: the reference returns math.erf in a float32 array -> torch.erf.
      - Gelu, HardSwish: their function bodies have float32 constants (1 / sqrt(2), ...,
        HardSigmoid alpha 0.16666667) -> torch.nn.functional.gelu / hardswish.
      - Resize cubic: the reference computes the weights in float32 (cubic_coeff_a is a
        float32 attribute) -> the separable 4-tap filter in torch.
      - Upsample (opset 9): the reference implements integer nearest scales only
        -> asymmetric nearest (floor) / linear in torch.
      - Pad with negative pads (crops): np.pad in the reference rejects them -> torch.
    Once per case the float64 outputs (all graph outputs) are checked against
    onnxruntime on the float32 model: max|y64 - y32| <= 1e-4 max|y64| + 1e-6, else the
    script stops. Every case runs in onnxruntime except layout=1 recurrences, which it
    rejects ("Batchwise recurrent operations (layout == 1) are not supported"); those
    are checked against onnxruntime on the layout-0 node with X / initial_h / initial_c
    and the outputs transposed.
 4. Central differences in float64 over every input element. A kink (or a float32
    rounding step inside an evaluator) between x - h and x + h shows as disagreeing
    one-sided differences (L(x+h) - L(x)) / h and (L(x) - L(x-h)) / h; then the inputs
    are redrawn (seed + 1, ...), up to MAX_ATTEMPTS times, else the script stops.
    With smooth ops the central-difference error is ~h^2 |L'''| + 1e-16 |L| / h, i.e.
    < 1e-8 relative here.

Recurrences (ONNX definitions; f, g, h = activations, default Sigmoid, Tanh, Tanh;
gate order LSTM W/R/B = [i o f c], P = [i o f]; GRU [z r h]; B = [Wb, Rb]):
  LSTM: i = f(x Wi' + h Ri' + Pi*c + Wbi + Rbi), f = f(... Pf*c ...) (= 1 - i with
        input_forget=1), c~ = g(x Wc' + h Rc' + Wbc + Rbc), C = f*c + i*c~,
        o = f(x Wo' + h Ro' + Po*C + Wbo + Rbo), H = o * h(C).
  GRU:  z = f(x Wz' + h Rz' + Wbz + Rbz), r = f(x Wr' + h Rr' + Wbr + Rbr),
        h~ = g(x Wh' + (r*h) Rh' + Rbh + Wbh)      (linear_before_reset=0)
        h~ = g(x Wh' + r*(h Rh' + Rbh) + Wbh)      (linear_before_reset=1),
        H = (1 - z)*h~ + z*h.
  RNN:  H = f(x Wi' + h Ri' + Wbi + Rbi).
  sequence_lens[n] = L: the forward direction runs t = 0..L-1, the reverse one
  t = L-1..0; Y[t >= L] = 0 and Y_h / Y_c are the states after the last step run.
  layout=1 swaps the first two axes of X, Y, initial_h/c, Y_h/c.

Writes OUTDIR/op-gradients/:
  <case>.onnx                 the float32 single-node model
  <case>.<input>.npy          float32 graph inputs (exact values used)
  <case>.cotangent.npy        float32 cotangent of the seeded output
  <case>.grad.<input>.npy     float64 dL/d<input>, same shape as the input
  cases.json = {"cases": [{"name", "op_type", "model": abs path,
     "inputs": {graph input: abs .npy}, "output": seeded output name,
     "cotangent": abs .npy, "gradients": {graph input: abs .npy},
     "evaluator": "onnx.reference" | "torch", "step": STEP (h_i = step * max(1, |x_i|)),
     "seed": int, "ort_max_abs_diff": float (over all outputs), "ort_max_abs": float}]}
  The recurrent ops also seed Y_h / Y_c in extra cases "<case>_Y_h", "<case>_Y_c",
  which share the model and inputs of "<case>" (one set of finite differences
  gives the gradients of all seeded outputs).

Everything is deterministic: seed = crc32(case name) (+ attempt), single-threaded ORT.
"""

import argparse
import json
import os
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # tiny matrices; see finite_differences.py

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

torch.set_num_threads(1)

STEP = 1e-6              # h_i = STEP * max(1, |x_i|)
MAX_ATTEMPTS = 8         # redraws when a probe crosses a kink / a validity check fails
KINK_RELATIVE = 1e-3     # |forward - backward| > KINK_RELATIVE * max(1, |fwd|, |bwd|) + noise
ORT_RELATIVE, ORT_ABSOLUTE = 1e-4, 1e-6
DEFAULT_OPSET = 18


# ------------------------------------------------------------ input distributions

def uniform(low=-1.0, high=1.0):
    """U(low, high)."""
    return lambda rng, shape: rng.uniform(low, high, shape)


def magnitude(low, high):
    """Random sign times U(low, high): |x| >= low (away from the kink of |x| at 0)."""
    return lambda rng, shape: rng.choice([-1.0, 1.0], shape) * rng.uniform(low, high, shape)


def away_from(points, margin, low, high):
    """U(low, high) conditioned on |x - p| >= margin for every p in `points` (one or a list)."""
    points = np.atleast_1d(np.asarray(points, dtype=np.float64))

    def near(x):
        return (np.abs(x[..., None] - points) < margin).any(axis=-1)

    def draw(rng, shape):
        x = rng.uniform(low, high, shape)
        bad = near(x)
        while bad.any():
            x[bad] = rng.uniform(low, high, int(bad.sum()))
            bad = near(x)
        return x
    return draw


def distinct(low=-1.0, high=1.0):
    """All values distinct, consecutive sorted values >= (high - low) / (2 n) apart:
    a shuffled even grid plus jitter of a quarter spacing (no ties for max / min / topk)."""
    def draw(rng, shape):
        n = int(np.prod(shape))
        spacing = (high - low) / n
        grid = low + spacing * (np.arange(n) + 0.5)
        return (rng.permutation(grid) + rng.uniform(-spacing / 4, spacing / 4, n)).reshape(shape)
    return draw


def distinct_inputs(low=-1.0, high=1.0):
    """Joint draw(rng, shapes): the values of all inputs together distinct (variadic Max / Min
    compare elements of different inputs after broadcasting)."""
    def draw(rng, shapes):
        sizes = [int(np.prod(s)) for s in shapes.values()]
        parts = np.split(distinct(low, high)(rng, (sum(sizes),)), np.cumsum(sizes)[:-1])
        return {n: part.reshape(s) for (n, s), part in zip(shapes.items(), parts)}
    return draw


def with_zero(index):
    """U(0.5, 1.5) with random signs (products stay O(1)), one element exactly 0."""
    def draw(rng, shape):
        x = magnitude(0.5, 1.5)(rng, shape)
        x[index] = 0.0
        return x
    return draw


def draw_mod(rng, shapes):
    """fmod(A, B) = A - B trunc(A / B): B = +-U(0.5, 2), A = B q with q = +-(k + U(0.2, 0.8)),
    k in 0..3, so A / B stays >= 0.2 from the integers where trunc jumps."""
    b = magnitude(0.5, 2.0)(rng, shapes["B"])
    q = rng.integers(0, 4, shapes["A"]) + rng.uniform(0.2, 0.8, shapes["A"])
    return {"A": rng.choice([-1.0, 1.0], shapes["A"]) * q * b, "B": b}


def grid_draw(align_corners):
    """GridSample: X ~ U(-1, 1); every source coordinate p = k + U(0.1, 0.9), k integer in
    [-2, size], i.e. some samples out of bounds, none within 0.1 of the integer coordinates
    where the bilinear weights (and border clamping) have kinks; grid = normalised p."""
    def draw(rng, shapes):
        n, h, w, _ = shapes["grid"]
        size = np.array([shapes["X"][3], shapes["X"][2]], dtype=np.float64)  # (x: W, y: H)
        p = rng.integers(-2, size.astype(int) + 1, (n, h, w, 2)) + rng.uniform(0.1, 0.9, (n, h, w, 2))
        grid = 2 * p / (size - 1) - 1 if align_corners else (2 * p + 1) / size - 1
        return {"X": uniform()(rng, shapes["X"]), "grid": grid}
    return draw


# ------------------------------------------------------------ case description

@dataclass
class Diff:
    """A differentiable float graph input."""
    shape: tuple
    draw: Callable = None


@dataclass
class Case:
    name: str
    op: str
    inputs: list              # [(name, Diff | np.ndarray initializer | None for omitted)]
    outputs: list = field(default_factory=lambda: ["Y"])  # float graph outputs
    attrs: dict = field(default_factory=dict)
    opset: int = DEFAULT_OPSET
    seeds: list = None        # outputs seeded with a cotangent (default: outputs[0])
    node_outputs: list = None  # node outputs if more than the graph outputs (TopK Indices)
    torch_fn: Callable = None  # float64 torch evaluator (args in ONNX input order)
    draw: Callable = None      # joint draw(rng, shapes) -> {name: float64 values}
    check: Callable = None     # check(inputs64, outputs64) -> True if away from kinks
    attrs64: dict = None       # attribute overrides in the float64 copy
    float32_initializers: tuple = ()  # float initializers typed tensor(float) in every copy

    @property
    def diff_names(self):
        return [n for n, s in self.inputs if isinstance(s, Diff)]


def i64(*values):
    return np.array(values, dtype=np.int64)


def scalar64(value):
    return np.array(value, dtype=np.int64)


# ------------------------------------------------------------ torch float64 evaluators

def to_torch(a):
    return None if a is None else torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


ACTIVATIONS = {"Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "Relu": torch.relu}
DEFAULT_ACTIVATIONS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"], "RNN": ["Tanh"]}
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def lstm_cell(acts, attrs, x, h, c, w, r, b, p):
    f, g, hh = acts
    hidden = h.shape[-1]
    gates = x @ w.T + h @ r.T + b[:4 * hidden] + b[4 * hidden:]
    gi, go, gf, gc = gates.split(hidden, dim=-1)
    pi, po, pf = p.split(hidden)
    i = f(gi + pi * c)
    forget = 1.0 - i if attrs.get("input_forget", 0) else f(gf + pf * c)
    cell = forget * c + i * g(gc)
    o = f(go + po * cell)
    return o * hh(cell), cell


def gru_cell(acts, attrs, x, h, c, w, r, b, p):
    f, g = acts
    hidden = h.shape[-1]
    wz, wr, wh = w.split(hidden)
    rz, rr, rh = r.split(hidden)
    wbz, wbr, wbh, rbz, rbr, rbh = b.split(hidden)
    z = f(x @ wz.T + h @ rz.T + wbz + rbz)
    reset = f(x @ wr.T + h @ rr.T + wbr + rbr)
    if attrs.get("linear_before_reset", 0):
        candidate = g(x @ wh.T + reset * (h @ rh.T + rbh) + wbh)
    else:
        candidate = g(x @ wh.T + (reset * h) @ rh.T + rbh + wbh)
    return (1.0 - z) * candidate + z * h, c


def rnn_cell(acts, attrs, x, h, c, w, r, b, p):
    hidden = h.shape[-1]
    return acts[0](x @ w.T + h @ r.T + b[:hidden] + b[hidden:]), c


CELLS = {"LSTM": lstm_cell, "GRU": gru_cell, "RNN": rnn_cell}


def torch_recurrent(op):
    """LSTM / GRU / RNN in torch float64 (see the module docstring), with sequence_lens,
    layout, direction, input_forget, linear_before_reset and activations."""
    def run(attrs, X, W, R, B=None, sequence_lens=None, initial_h=None, initial_c=None, P=None):
        if attrs.get("clip") is not None:
            raise NotImplementedError("clip")
        X, W, R, B, h0, c0, P = map(to_torch, (X, W, R, B, initial_h, initial_c, P))
        layout = attrs.get("layout", 0)
        if layout:
            X = X.transpose(0, 1)
            h0 = None if h0 is None else h0.transpose(0, 1)
            c0 = None if c0 is None else c0.transpose(0, 1)
        steps, batch, _ = X.shape
        directions, hidden = W.shape[0], R.shape[-1]
        B = torch.zeros(directions, 2 * GATES[op] * hidden, dtype=torch.float64) if B is None else B
        h0 = torch.zeros(directions, batch, hidden, dtype=torch.float64) if h0 is None else h0
        c0 = torch.zeros(directions, batch, hidden, dtype=torch.float64) if c0 is None else c0
        P = torch.zeros(directions, 3 * hidden, dtype=torch.float64) if P is None else P
        lengths = np.full(batch, steps) if sequence_lens is None else np.asarray(sequence_lens)
        names = attrs.get("activations") or DEFAULT_ACTIVATIONS[op] * directions
        per_direction = len(names) // directions
        direction = attrs.get("direction", "forward")
        Y = torch.zeros(steps, directions, batch, hidden, dtype=torch.float64)
        Y_h = torch.zeros(directions, batch, hidden, dtype=torch.float64)
        Y_c = torch.zeros(directions, batch, hidden, dtype=torch.float64)
        columns = np.arange(batch)
        for d in range(directions):
            acts = [ACTIVATIONS[a] for a in names[d * per_direction:(d + 1) * per_direction]]
            reverse = direction == "reverse" or d == 1
            h, c = h0[d], c0[d]
            for k in range(int(lengths.max())):
                t = np.where(lengths - 1 - k >= 0, lengths - 1 - k, 0) if reverse else np.full(batch, k)
                valid = torch.from_numpy(k < lengths)[:, None]
                h_new, c_new = CELLS[op](acts, attrs, X[t, columns], h, c, W[d], R[d], B[d], P[d])
                h = torch.where(valid, h_new, h)
                c = torch.where(valid, c_new, c)
                Y[t, d, columns] = torch.where(valid, h_new, Y[t, d, columns])
            Y_h[d], Y_c[d] = h, c
        if layout:
            Y, Y_h, Y_c = Y.permute(2, 0, 1, 3), Y_h.transpose(0, 1), Y_c.transpose(0, 1)
        outputs = (Y, Y_h, Y_c) if op == "LSTM" else (Y, Y_h)
        return tuple(o.numpy() for o in outputs)
    return run


def torch_grid_sample(attrs, X, grid):
    """GridSample bilinear ("linear" from opset 20) = torch grid_sample."""
    mode = {"linear": "bilinear", "bilinear": "bilinear"}[attrs.get("mode", "bilinear")]
    y = F.grid_sample(to_torch(X), to_torch(grid), mode=mode,
                      padding_mode=attrs.get("padding_mode", "zeros"),
                      align_corners=bool(attrs.get("align_corners", 0)))
    return (y.numpy(),)


def torch_affine_grid(attrs, theta, size):
    """AffineGrid = torch affine_grid."""
    y = F.affine_grid(to_torch(theta), [int(s) for s in size],
                      align_corners=bool(attrs.get("align_corners", 0)))
    return (y.numpy(),)


def torch_mean_variance_normalization(attrs, X):
    """MeanVarianceNormalization's function body: (X - E X) / (sqrt(E X^2 - (E X)^2) + 1e-9)."""
    x, axes = to_torch(X), list(attrs.get("axes", [0, 2, 3]))
    mean = x.mean(dim=axes, keepdim=True)
    variance = (x * x).mean(dim=axes, keepdim=True) - mean * mean
    return (((x - mean) / (variance.sqrt() + 1e-9)).numpy(),)


def torch_lp_normalization(attrs, X):
    """LpNormalization: X / (sum |X|^p)^(1/p) along axis (default -1, p default 2)."""
    x, p = to_torch(X), attrs.get("p", 2)
    norm = x.abs().pow(p).sum(dim=attrs.get("axis", -1), keepdim=True).pow(1.0 / p)
    return ((x / norm).numpy(),)


def torch_gelu(attrs, X):
    """Gelu: x Phi(x), or the tanh form with sqrt(2 / pi); the reference's function body rounds
    its constants (1 / sqrt(2), ...) to float32."""
    return (F.gelu(to_torch(X), approximate=attrs.get("approximate", "none")).numpy(),)


def torch_erf(attrs, X):
    """Erf: the reference evaluates math.erf into a float32 array."""
    return (torch.erf(to_torch(X)).numpy(),)


def torch_hard_swish(attrs, X):
    """HardSwish: x max(0, min(1, x / 6 + 1 / 2)); the reference's function body uses the
    float32 HardSigmoid alpha 0.16666667."""
    return (F.hardswish(to_torch(X)).numpy(),)


def torch_conv_transpose(attrs, X, W, B=None):
    """ConvTranspose (explicit pads, 1-D / 2-D): the full transposed convolution, output_padding
    zeros appended at the end of each spatial axis, pads cropped, then the bias."""
    x, w = to_torch(X), to_torch(W)
    spatial = x.dim() - 2
    strides = attrs.get("strides", [1] * spatial)
    dilations = attrs.get("dilations", [1] * spatial)
    pads = attrs.get("pads", [0] * 2 * spatial)
    extra = attrs.get("output_padding", [0] * spatial)
    fn = F.conv_transpose1d if spatial == 1 else F.conv_transpose2d
    y = fn(x, w, stride=strides, dilation=dilations, groups=attrs.get("group", 1))
    y = F.pad(y, [p for a in reversed(range(spatial)) for p in (0, extra[a])])
    crop = tuple(slice(pads[a], y.shape[2 + a] - pads[spatial + a]) for a in range(spatial))
    y = y[(slice(None), slice(None)) + crop]
    if B is not None:
        y = y + to_torch(B).reshape((1, -1) + (1,) * spatial)
    return (y.numpy(),)


def torch_lrn(attrs, X):
    """LRN: x / (bias + alpha / size * S)^beta, S = sum of x^2 over the channels
    [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)]; the reference loops c over the batch
    axis. Float attributes are the float32 values stored in the model."""
    x, size = to_torch(X), attrs["size"]
    alpha, beta, bias = (float(np.float32(attrs.get(k, d)))
                         for k, d in (("alpha", 1e-4), ("beta", 0.75), ("bias", 1.0)))
    below, above = (size - 1) // 2, size - 1 - (size - 1) // 2
    square = x * x
    sums = torch.stack([square[:, max(0, c - below):c + above + 1].sum(dim=1)
                        for c in range(x.shape[1])], dim=1)
    return ((x / (bias + alpha / size * sums) ** beta).numpy(),)


def torch_pad(attrs, data, pads, constant_value=None, axes=None):
    """Pad, constant or edge mode, with negative pads (crops), which the reference (np.pad)
    rejects: output position o of an axis reads input o - begin, clamped to the axis (edge)
    or the constant outside it."""
    x, rank = to_torch(data), data.ndim
    axes = [a % rank for a in (range(rank) if axes is None else axes)]
    mode = attrs.get("mode", "constant")
    if mode not in ("constant", "edge"):
        raise NotImplementedError(mode)
    for k, axis in enumerate(axes):
        begin, end, size = int(pads[k]), int(pads[k + len(axes)]), x.shape[axis]
        source = torch.arange(-begin, size + end)
        inside = ((source >= 0) & (source < size)).reshape(
            [-1 if a == axis else 1 for a in range(rank)])
        x = x.index_select(axis, source.clamp(0, size - 1))
        if mode == "constant":
            fill = 0.0 if constant_value is None else float(constant_value)
            x = torch.where(inside, x, torch.tensor(fill, dtype=torch.float64))
    return (x.numpy(),)


def torch_upsample(attrs, X, scales):
    """Upsample (opset 9): Resize with asymmetric coordinates, output o of an axis reads
    x = o / scale; nearest takes floor(x), linear interpolates between floor(x) and the next
    index (clamped to the axis). The reference implements integer nearest scales only."""
    y = to_torch(X)
    for axis, scale in enumerate(np.asarray(scales, dtype=np.float64)):
        size = y.shape[axis]
        source = np.arange(int(np.floor(size * scale))) / scale
        low = np.floor(source).astype(np.int64)
        below = y.index_select(axis, torch.from_numpy(low))
        if attrs.get("mode", "nearest") == "nearest":
            y = below
        else:
            above = y.index_select(axis, torch.from_numpy(np.minimum(low + 1, size - 1)))
            w = torch.from_numpy(source - low).reshape([-1 if a == axis else 1 for a in range(y.dim())])
            y = (1 - w) * below + w * above
    return (y.numpy(),)


def cubic_weights(distance, a):
    """The cubic convolution kernel with coefficient a at |offset| = distance."""
    d = np.abs(distance)
    return np.where(d <= 1, ((a + 2) * d - (a + 3)) * d * d + 1,
                    np.where(d < 2, ((a * d - 5 * a) * d + 8 * a) * d - 4 * a, 0.0))


def torch_resize_cubic(attrs, X, roi=None, scales=None, sizes=None):
    """Resize, cubic mode, axis by axis: output o reads the 4 taps floor(x) - 1 .. floor(x) + 2
    around its source coordinate x, weighted by the kernel, indices clamped to the axis
    (exclude_outside: taps outside dropped, weights renormalised). The reference computes the
    weights in float32 (cubic_coeff_a is a float32 attribute)."""
    a = float(np.float32(attrs.get("cubic_coeff_a", -0.75)))
    mode = attrs.get("coordinate_transformation_mode", "half_pixel")
    y = to_torch(X)
    for axis in range(y.dim()):
        size = y.shape[axis]
        scale = float(sizes[axis]) / size if sizes is not None else float(scales[axis])
        count = int(sizes[axis]) if sizes is not None else int(np.floor(size * scale))
        if scale == 1:
            continue
        o = np.arange(count, dtype=np.float64)
        x = {"half_pixel": (o + 0.5) / scale - 0.5, "asymmetric": o / scale,
             "align_corners": o * (size - 1) / (size * scale - 1)}[mode]
        taps = np.floor(x)[:, None] + np.arange(-1, 3)
        w = cubic_weights(taps - x[:, None], a)
        if attrs.get("exclude_outside", 0):
            w = np.where((taps < 0) | (taps >= size), 0.0, w)
            w /= w.sum(axis=1, keepdims=True)
        index = torch.from_numpy(np.clip(taps, 0, size - 1).astype(np.int64).ravel())
        shape = y.shape[:axis] + (count, 4) + y.shape[axis + 1:]
        w = torch.from_numpy(w).reshape((1,) * axis + (count, 4) + (1,) * (y.dim() - axis - 1))
        y = (y.index_select(axis, index).reshape(shape) * w).sum(dim=axis + 1)
    return (y.numpy(),)


def torch_softmax_2d(logarithmic):
    """(Log)Softmax before opset 13: X coerced to 2-D [prod(shape[:axis]), prod(shape[axis:])]
    and normalised along the second axis; the reference normalises along `axis` alone."""
    def run(attrs, X):
        x = to_torch(X)
        rows = int(np.prod(x.shape[:attrs.get("axis", 1) % x.dim()]))
        fn = F.log_softmax if logarithmic else F.softmax
        return (fn(x.reshape(rows, -1), dim=1).reshape(x.shape).numpy(),)
    return run


def relu_rnn_margin(inputs, outputs):
    """Forward single-direction RNN: every pre-activation x W' + h R' + b is >= 0.02 from 0."""
    x, w, r, b = inputs["X"], inputs["W"][0], inputs["R"][0], inputs["B"][0]
    hidden = r.shape[-1]
    y = outputs["Y"][:, 0]
    h_prev = np.concatenate([inputs["initial_h"][0][None] if "initial_h" in inputs
                             else np.zeros((1,) + y.shape[1:]), y[:-1]])
    pre = x @ w.T + h_prev @ r.T + b[:hidden] + b[hidden:]
    return np.abs(pre).min() >= 0.02


# ------------------------------------------------------------ cases

def reduce_cases():
    ops = {
        "ReduceSum": uniform(), "ReduceMean": uniform(), "ReduceSumSquare": uniform(),
        "ReduceL2": uniform(), "ReduceLogSumExp": uniform(),
        "ReduceL1": magnitude(0.1, 1.0), "ReduceLogSum": uniform(0.5, 2.0),
        "ReduceMax": distinct(), "ReduceMin": distinct(),
    }
    cases = []
    for op, draw in ops.items():
        for axes, keep in (((1,), 1), ((0, 2), 0)):
            cases.append(Case(f"{op.lower()}_axes{'_'.join(map(str, axes))}_keepdims{keep}", op,
                              [("X", Diff((3, 4, 5), draw)), ("axes", i64(*axes))],
                              attrs=dict(keepdims=keep)))
    # One zero in one reduction group: (0, :, 1) for axes [1]; (:, 2, :) for axes [0, 2].
    for axes, keep, zero in (((1,), 1, (0, 2, 1)), ((0, 2), 0, (1, 2, 3))):
        cases.append(Case(f"reduceprod_axes{'_'.join(map(str, axes))}_keepdims{keep}", "ReduceProd",
                          [("X", Diff((3, 4, 5), with_zero(zero))), ("axes", i64(*axes))],
                          attrs=dict(keepdims=keep)))
    # No axes (all of them, or none with noop_with_empty_axes); axes as an attribute (opset 13).
    x = Diff((3, 4, 5))
    cases += [
        Case("reducemean_all_axes", "ReduceMean", [("X", x)]),
        Case("reducesum_noop_with_empty_axes", "ReduceSum", [("X", x)],
             attrs=dict(noop_with_empty_axes=1)),
        Case("reducemean_opset13_axes_attribute", "ReduceMean", [("X", x)],
             attrs=dict(axes=[-1], keepdims=0), opset=13),
        Case("reducemax_opset13_axes_attribute", "ReduceMax", [("X", Diff((3, 4, 5), distinct()))],
             attrs=dict(axes=[2], keepdims=0), opset=13),
    ]
    return cases


def recurrent_inputs(op, directions, steps=5, batch=2, size=3, hidden=4, layout=0, bias=False,
                     initial=False, peepholes=False, sequence_lens=None):
    gates = GATES[op]
    x = (batch, steps, size) if layout else (steps, batch, size)
    state = (batch, directions, hidden) if layout else (directions, batch, hidden)
    inputs = [("X", Diff(x)), ("W", Diff((directions, gates * hidden, size), uniform(-0.7, 0.7))),
              ("R", Diff((directions, gates * hidden, hidden), uniform(-0.7, 0.7))),
              ("B", Diff((directions, 2 * gates * hidden), uniform(-0.5, 0.5)) if bias else None),
              ("sequence_lens", None if sequence_lens is None else np.array(sequence_lens, np.int32)),
              ("initial_h", Diff(state) if initial else None)]
    if op == "LSTM":
        inputs += [("initial_c", Diff(state) if initial else None),
                   ("P", Diff((directions, 3 * hidden), uniform(-0.5, 0.5)) if peepholes else None)]
    while inputs[-1][1] is None:
        inputs.pop()
    return inputs


def recurrent_case(name, op, directions=1, attrs=(), **inputs):
    attrs = dict(hidden_size=4, **dict(attrs))
    if directions == 2:
        attrs["direction"] = "bidirectional"
    outputs = ["Y", "Y_h", "Y_c"] if op == "LSTM" else ["Y", "Y_h"]
    needs_torch = (inputs.get("sequence_lens") is not None or attrs.get("input_forget")
                   or "activations" in attrs)
    return Case(name, op, recurrent_inputs(op, directions, **inputs), outputs=outputs,
                attrs=attrs, seeds=outputs, torch_fn=torch_recurrent(op) if needs_torch else None)


def recurrent_cases():
    lstm = dict(bias=True, initial=True)
    relu_rnn = recurrent_case("rnn_relu", "RNN", 1, dict(activations=["Relu"]), bias=True,
                              initial=True)
    relu_rnn.check = relu_rnn_margin
    return [
        recurrent_case("lstm_forward", "LSTM"),
        recurrent_case("lstm_bidirectional_peepholes", "LSTM", 2, peepholes=True, **lstm),
        recurrent_case("lstm_sequence_lens", "LSTM", 2, sequence_lens=[3, 5], peepholes=True, **lstm),
        recurrent_case("lstm_layout1", "LSTM", 1, dict(layout=1), layout=1, peepholes=True, **lstm),
        recurrent_case("lstm_input_forget", "LSTM", 1, dict(input_forget=1), peepholes=True, **lstm),
        recurrent_case("gru_linear_before_reset0", "GRU", 1, bias=True),
        recurrent_case("gru_linear_before_reset1", "GRU", 1, dict(linear_before_reset=1), bias=True),
        recurrent_case("gru_bidirectional", "GRU", 2, bias=True, initial=True),
        recurrent_case("gru_sequence_lens", "GRU", 2, dict(linear_before_reset=1),
                       sequence_lens=[3, 5], bias=True, initial=True),
        recurrent_case("rnn_tanh", "RNN"),
        recurrent_case("rnn_bidirectional", "RNN", 2, bias=True, initial=True),
        relu_rnn,
    ]


def unary_cases():
    return [
        Case("sin", "Sin", [("X", Diff((3, 4, 5), uniform(-3, 3)))]),
        Case("cos", "Cos", [("X", Diff((3, 4, 5), uniform(-3, 3)))]),
        Case("softsign", "Softsign", [("X", Diff((3, 4, 5), magnitude(0.1, 3)))]),
        Case("celu_alpha2", "Celu", [("X", Diff((3, 4, 5), magnitude(0.1, 3)))], attrs=dict(alpha=2.0)),
        Case("thresholded_relu_alpha0_5", "ThresholdedRelu",
             [("X", Diff((3, 4, 5), away_from(0.5, 0.1, -1.5, 2.5)))], attrs=dict(alpha=0.5)),
    ]


def indexing_cases():
    return [
        Case("where_broadcast", "Where", [("condition", np.array(
            [[[True, False, True, True]], [[False, True, False, True]]])),
            ("X", Diff((3, 4))), ("Y", Diff((2, 3, 1)))], outputs=["Z"]),
        Case("tile_2_1_3", "Tile", [("X", Diff((2, 3, 2))), ("repeats", i64(2, 1, 3))]),
        Case("trilu_upper_k1", "Trilu", [("X", Diff((2, 4, 5))), ("k", scalar64(1))],
             attrs=dict(upper=1)),
        Case("trilu_lower_k_minus1", "Trilu", [("X", Diff((2, 4, 5))), ("k", scalar64(-1))],
             attrs=dict(upper=0)),
        *[Case(f"cumsum_axis1{suffix}", "CumSum", [("X", Diff((3, 4, 2))), ("axis", scalar64(1))],
               attrs=attrs)
          for suffix, attrs in (("", {}), ("_exclusive", dict(exclusive=1)),
                                ("_reverse", dict(reverse=1)),
                                ("_exclusive_reverse", dict(exclusive=1, reverse=1)))],
        *[Case(f"topk_{which}_axis1", "TopK", [("X", Diff((3, 6, 2), distinct())), ("K", i64(3))],
               outputs=["Values"], node_outputs=["Values", "Indices"],
               attrs=dict(axis=1, largest=largest))
          for which, largest in (("largest", 1), ("smallest", 0))],
        # Index -1 and repeated indices (the backward pass must accumulate).
        Case("gather_elements_axis0", "GatherElements",
             [("data", Diff((3, 4))), ("indices", i64([0, 2, -1, 1], [2, 2, 0, -3]))],
             attrs=dict(axis=0)),
        Case("gather_elements_axis1", "GatherElements",
             [("data", Diff((3, 4))), ("indices", i64([3, 0, 0, -1, 2], [1, 1, 2, 3, 0],
                                                        [-4, 2, 3, 1, 1]))],
             attrs=dict(axis=1)),
        Case("gathernd_batch_dims0", "GatherND",
             [("data", Diff((3, 4, 2))), ("indices", i64([0, 1], [2, 3], [-1, 0], [0, 1]))]),
        Case("gathernd_batch_dims1", "GatherND",
             [("data", Diff((2, 3, 4))), ("indices", i64([[1], [2], [1]], [[0], [-1], [0]]))],
             attrs=dict(batch_dims=1)),
        Case("scatter_elements_none_axis0", "ScatterElements",
             [("data", Diff((3, 4))), ("indices", i64([2, 0, 1, -1], [0, 1, 2, 1])),
              ("updates", Diff((2, 4)))], attrs=dict(axis=0)),
        Case("scatter_elements_add_axis1", "ScatterElements",
             [("data", Diff((3, 4))), ("indices", i64([1, 1, 3], [0, -1, 0], [2, 2, 2])),
              ("updates", Diff((3, 3)))], attrs=dict(axis=1, reduction="add")),
        Case("scatternd_none", "ScatterND",
             [("data", Diff((4, 3))), ("indices", i64([3], [1])), ("updates", Diff((2, 3)))]),
        Case("scatternd_add", "ScatterND",
             [("data", Diff((3, 4))), ("indices", i64([0, 1], [2, 3], [0, 1], [1, 0])),
              ("updates", Diff((4,)))], attrs=dict(reduction="add")),
    ]


def layout_cases():
    return [
        Case("depth_to_space_dcr", "DepthToSpace", [("X", Diff((2, 8, 2, 3)))],
             attrs=dict(blocksize=2, mode="DCR")),
        Case("depth_to_space_crd", "DepthToSpace", [("X", Diff((2, 8, 2, 3)))],
             attrs=dict(blocksize=2, mode="CRD")),
        Case("space_to_depth", "SpaceToDepth", [("X", Diff((2, 2, 4, 6)))], attrs=dict(blocksize=2)),
        Case("col2im", "Col2Im", [("X", Diff((2, 8, 12))), ("image_shape", i64(4, 5)),
                                  ("block_shape", i64(2, 2))]),
        # H: (4 + 1 + 1 - 2) / 2 + 1 = 3 blocks, W: (5 + 0 + 1 - 3) / 1 + 1 = 4 blocks.
        Case("col2im_strides_pads_dilations", "Col2Im",
             [("X", Diff((2, 8, 12))), ("image_shape", i64(4, 5)), ("block_shape", i64(2, 2))],
             attrs=dict(strides=[2, 1], pads=[1, 0, 1, 1], dilations=[1, 2])),
        Case("center_crop_pad_odd", "CenterCropPad", [("X", Diff((3, 7, 4))), ("shape", i64(4, 7))],
             attrs=dict(axes=[1, -1])),
        Case("center_crop_pad_all_axes", "CenterCropPad", [("X", Diff((3, 7, 4))),
                                                           ("shape", i64(3, 5, 6))]),
    ]


def einsum_cases():
    shapes = {"ij,jk->ik": [(3, 4), (4, 5)], "bij,bjk->bik": [(2, 3, 4), (2, 4, 3)],
              "i,i->": [(6,), (6,)], "ij->ji": [(3, 5)], "bhwc,ck->bhwk": [(2, 3, 3, 4), (4, 5)]}
    names = {"ij,jk->ik": "matmul", "bij,bjk->bik": "batch_matmul", "i,i->": "dot",
             "ij->ji": "transpose", "bhwc,ck->bhwk": "channel_mix"}
    return [Case(f"einsum_{names[eq]}", "Einsum",
                 [(f"X{k}", Diff(s)) for k, s in enumerate(shape)], attrs=dict(equation=eq))
            for eq, shape in shapes.items()]


def normalization_cases():
    # The reference evaluator sums x^p instead of |x|^p (wrong for p = 1).
    lp = [Case(f"lp_normalization_p{p}_axis{'_minus1' if axis < 0 else axis}", "LpNormalization",
               [("X", Diff((2, 4, 3), magnitude(0.1, 1.0)))], attrs=dict(p=p, axis=axis),
               torch_fn=torch_lp_normalization if p == 1 else None)
          for p in (1, 2) for axis in (-1, 1)]
    return [
        Case("mod_fmod", "Mod", [("A", Diff((2, 3, 4))), ("B", Diff((4,)))], outputs=["C"],
             attrs=dict(fmod=1), draw=draw_mod),
        Case("layer_normalization_axis_minus1", "LayerNormalization",
             [("X", Diff((2, 3, 5))), ("Scale", Diff((5,))), ("B", Diff((5,)))], attrs=dict(axis=-1)),
        Case("layer_normalization_axis1_scale_last", "LayerNormalization",
             [("X", Diff((2, 3, 5))), ("Scale", Diff((5,))), ("B", Diff((5,)))], attrs=dict(axis=1)),
        Case("layer_normalization_axis1_scale_full", "LayerNormalization",
             [("X", Diff((2, 3, 5))), ("Scale", Diff((3, 5))), ("B", Diff((3, 5)))],
             attrs=dict(axis=1)),
        Case("group_normalization", "GroupNormalization",
             [("X", Diff((2, 6, 3, 3))), ("scale", Diff((6,))), ("bias", Diff((6,)))],
             attrs=dict(num_groups=3), opset=21, attrs64=dict(stash_type=TensorProto.DOUBLE)),
        Case("mean_variance_normalization", "MeanVarianceNormalization", [("X", Diff((2, 3, 4, 4)))],
             torch_fn=torch_mean_variance_normalization),
        Case("mean_variance_normalization_axes2_3", "MeanVarianceNormalization",
             [("X", Diff((2, 3, 4, 4)))], attrs=dict(axes=[2, 3]),
             torch_fn=torch_mean_variance_normalization),
        *lp,
    ]


def sampling_cases():
    cases = []
    for align in (0, 1):
        for padding in ("zeros", "border"):
            cases.append(Case(f"grid_sample_linear_align{align}_{padding}", "GridSample",
                              [("X", Diff((2, 2, 3, 4))), ("grid", Diff((2, 3, 4, 2)))],
                              attrs=dict(mode="linear", align_corners=align, padding_mode=padding),
                              opset=20, draw=grid_draw(align), torch_fn=torch_grid_sample))
    cases.append(Case("grid_sample_bilinear_opset16", "GridSample",
                      [("X", Diff((2, 2, 3, 4))), ("grid", Diff((2, 3, 4, 2)))],
                      attrs=dict(mode="bilinear", align_corners=0, padding_mode="zeros"),
                      opset=16, draw=grid_draw(0), torch_fn=torch_grid_sample))
    for align in (0, 1):
        cases.append(Case(f"affine_grid_align{align}", "AffineGrid",
                          [("theta", Diff((2, 2, 3))), ("size", i64(2, 3, 4, 5))],
                          outputs=["grid"], attrs=dict(align_corners=align), opset=20,
                          torch_fn=torch_affine_grid))
    # rois in image coordinates (spatial_scale 0.5 -> 6 x 6 feature map); the third one
    # reaches past the top-left and bottom edges.
    rois = np.array([[0, 0, 8, 8], [2.5, 1, 11, 9.5], [-3, 4, 6, 14]], dtype=np.float32)
    for mode in ("output_half_pixel", "half_pixel"):
        cases.append(Case(f"roi_align_avg_{mode}", "RoiAlign",
                          [("X", Diff((2, 2, 6, 6))), ("rois", rois), ("batch_indices", i64(0, 1, 1))],
                          attrs=dict(mode="avg", coordinate_transformation_mode=mode,
                                     output_height=3, output_width=3, sampling_ratio=2,
                                     spatial_scale=0.5), opset=16))
    return cases


def conv_case(name, x, w, bias=True, **attrs):
    """Conv with X, W and (optionally) B differentiable."""
    inputs = [("X", Diff(x)), ("W", Diff(w))] + ([("B", Diff((w[0],)))] if bias else [])
    return Case(name, "Conv", inputs, attrs=attrs)


def conv_transpose_case(name, x, w, bias=True, torch_fn=None, **attrs):
    """ConvTranspose: W is (C, M / group, k...), so B has W.shape[1] * group values."""
    channels = w[1] * attrs.get("group", 1)
    inputs = [("X", Diff(x)), ("W", Diff(w))] + ([("B", Diff((channels,)))] if bias else [])
    return Case(name, "ConvTranspose", inputs, attrs=attrs, torch_fn=torch_fn)


def convolution_cases():
    return [
        conv_case("conv_3x3", (2, 3, 5, 5), (4, 3, 3, 3)),
        conv_case("conv_3x3_pads1_no_bias", (2, 3, 5, 4), (4, 3, 3, 3), bias=False, pads=[1, 1, 1, 1]),
        conv_case("conv_strides2_pads1", (2, 3, 7, 6), (4, 3, 3, 3), strides=[2, 2], pads=[1, 1, 1, 1]),
        conv_case("conv_strides2_3_pads_asymmetric", (1, 2, 8, 9), (3, 2, 2, 3), bias=False,
                  strides=[2, 3], pads=[0, 1, 1, 2]),
        # Pads >= the kernel extent - 1 on one side: some outputs see only padding.
        conv_case("conv_pads_beyond_kernel", (1, 2, 5, 5), (3, 2, 4, 4), pads=[3, 0, 0, 3]),
        conv_case("conv_dilations2_pads_asymmetric", (1, 2, 8, 7), (3, 2, 3, 3), dilations=[2, 2],
                  pads=[2, 1, 0, 2]),
        conv_case("conv_group2", (2, 4, 5, 5), (6, 2, 3, 3), group=2, pads=[1, 1, 1, 1]),
        conv_case("conv_group2_strides_no_bias", (2, 4, 6, 5), (6, 2, 2, 3), bias=False, group=2,
                  strides=[2, 1], pads=[0, 1, 1, 1]),
        conv_case("conv_depthwise", (2, 3, 5, 5), (3, 1, 3, 3), group=3, pads=[1, 1, 1, 1]),
        conv_case("conv_depthwise_strides2", (1, 3, 7, 7), (3, 1, 3, 3), group=3, strides=[2, 2],
                  pads=[1, 0, 1, 1]),
        conv_case("conv_1x1", (2, 5, 4, 4), (3, 5, 1, 1)),
        conv_case("conv_1x1_group2_no_bias", (2, 4, 3, 3), (6, 2, 1, 1), bias=False, group=2),
        conv_case("conv_auto_pad_same_upper_strides2", (1, 2, 7, 8), (2, 2, 3, 3),
                  auto_pad="SAME_UPPER", strides=[2, 2]),
        conv_case("conv_auto_pad_same_lower", (1, 2, 5, 6), (2, 2, 4, 4), auto_pad="SAME_LOWER"),
        conv_case("conv_1d_strides2", (2, 3, 11), (4, 3, 3), strides=[2], pads=[1, 2]),
        conv_transpose_case("conv_transpose_strides2_pads", (1, 2, 4, 5), (2, 3, 3, 3),
                            strides=[2, 2], pads=[1, 0, 1, 1]),
        conv_transpose_case("conv_transpose_strides2_output_padding", (1, 3, 3, 3), (3, 2, 3, 3),
                            strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
        # The reference evaluator mis-reshapes W when group > 1.
        conv_transpose_case("conv_transpose_group2_output_padding", (2, 4, 3, 3), (4, 1, 3, 2),
                            group=2, strides=[2, 1], output_padding=[1, 0], pads=[0, 1, 1, 0],
                            torch_fn=torch_conv_transpose),
        conv_transpose_case("conv_transpose_1d_dilations2_no_bias", (1, 2, 5), (2, 2, 3), bias=False,
                            dilations=[2]),
        # output_shape 6 x 8 from a 3 x 4 input at stride 2 (full 7 x 9): one pixel of padding per
        # axis, placed by the SAME_UPPER rule.
        conv_transpose_case("conv_transpose_output_shape_same_upper", (1, 2, 3, 4), (2, 2, 3, 3),
                            strides=[2, 2], output_shape=[6, 8], auto_pad="SAME_UPPER"),
    ]


def pooling_cases():
    # MaxPool inputs are distinct (no ties within a window).
    maxpool = {
        "3x3_strides2_pads1": ((2, 2, 7, 7), dict(kernel_shape=[3, 3], strides=[2, 2],
                                                  pads=[1, 1, 1, 1])),
        # 6 x 6 with ceil_mode: a fourth window starting on the last pixel.
        "3x3_strides2_pads1_ceil": ((1, 2, 6, 6), dict(kernel_shape=[3, 3], strides=[2, 2],
                                                       pads=[1, 1, 1, 1], ceil_mode=1)),
        "2x2_strides2_ceil": ((2, 2, 7, 7), dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)),
        "2x3_dilations2_1": ((1, 2, 7, 7), dict(kernel_shape=[2, 3], dilations=[2, 1], strides=[1, 2])),
        "1d_strides2_pads1_0": ((1, 2, 9), dict(kernel_shape=[3], strides=[2], pads=[1, 0])),
        "3d_2x2x2": ((1, 1, 3, 4, 3), dict(kernel_shape=[2, 2, 2])),
    }
    cases = [Case(f"max_pool_{name}", "MaxPool", [("X", Diff(shape, distinct()))], attrs=attrs)
             for name, (shape, attrs) in maxpool.items()]
    # 7 x 6 input: with ceil_mode the last column window reaches past the end padding.
    average = {
        "3x3_strides2_pads1": dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        "2x2_strides2_ceil": dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        "3x3_strides2_pads1_ceil": dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                                        ceil_mode=1),
    }
    cases += [Case(f"average_pool_{name}_count_include_pad{include}", "AveragePool",
                   [("X", Diff((2, 2, 7, 6)))], attrs=dict(count_include_pad=include, **attrs))
              for name, attrs in average.items() for include in (0, 1)]
    return cases + [
        Case("global_average_pool", "GlobalAveragePool", [("X", Diff((2, 3, 4, 5)))]),
        Case("global_max_pool", "GlobalMaxPool", [("X", Diff((2, 3, 4, 5), distinct()))]),
        # onnxruntime accepts odd sizes only. Size 5 over 4 channels: every window is clipped.
        Case("lrn_size3", "LRN", [("X", Diff((2, 5, 3, 3), uniform(-2, 2)))],
             attrs=dict(size=3, alpha=0.1, beta=0.75, bias=1.0), torch_fn=torch_lrn),
        Case("lrn_size5", "LRN", [("X", Diff((1, 4, 2, 3), uniform(-2, 2)))],
             attrs=dict(size=5, alpha=0.3, beta=0.6, bias=2.0), torch_fn=torch_lrn),
    ]


def classic_normalization_cases():
    affine = [("X", Diff((2, 3, 4, 5))), ("scale", Diff((3,))), ("B", Diff((3,)))]
    statistics = [("input_mean", np.array([0.2, -0.3, 0.1], np.float32)),
                  ("input_var", np.array([0.5, 1.2, 0.8], np.float32))]
    return [
        Case("batch_normalization_inference", "BatchNormalization", affine + statistics,
             attrs=dict(epsilon=1e-3)),
        # The inference form is differentiable in the statistics too (var > 0).
        Case("batch_normalization_inference_statistics", "BatchNormalization",
             affine + [("input_mean", Diff((3,))), ("input_var", Diff((3,), uniform(0.5, 1.5)))]),
        # Batch statistics; the running statistics (outputs 1, 2) carry no gradient.
        Case("batch_normalization_training", "BatchNormalization", affine + statistics,
             outputs=["Y", "running_mean", "running_var"], attrs=dict(training_mode=1, momentum=0.8)),
        Case("instance_normalization", "InstanceNormalization",
             [("input", Diff((2, 3, 4, 5))), ("scale", Diff((3,))), ("B", Diff((3,)))],
             outputs=["output"], attrs=dict(epsilon=1e-3)),
    ]


def matmul_cases():
    cases = [Case(f"gemm_trans_a{ta}_b{tb}_alpha_beta", "Gemm",
                  [("A", Diff((4, 3) if ta else (3, 4))), ("B", Diff((5, 4) if tb else (4, 5))),
                   ("C", Diff((5,)))], attrs=dict(transA=ta, transB=tb, alpha=0.7, beta=1.3))
             for ta in (0, 1) for tb in (0, 1)]
    cases += [
        Case("gemm_c_column", "Gemm", [("A", Diff((3, 4))), ("B", Diff((4, 2))), ("C", Diff((3, 1)))]),
        Case("gemm_c_scalar", "Gemm", [("A", Diff((3, 4))), ("B", Diff((4, 2))), ("C", Diff(()))],
             attrs=dict(beta=0.5)),
        Case("gemm_no_c", "Gemm", [("A", Diff((3, 4))), ("B", Diff((4, 2)))]),
    ]
    shapes = {"2d": ((3, 4), (4, 5)), "batched": ((2, 3, 4), (2, 4, 5)),
              "broadcast_batch": ((2, 1, 3, 4), (3, 4, 2)), "vector_matrix": ((4,), (2, 4, 3)),
              "matrix_vector": ((2, 3, 4), (4,)), "vector_vector": ((4,), (4,))}
    return cases + [Case(f"matmul_{name}", "MatMul", [("A", Diff(a)), ("B", Diff(b))])
                    for name, (a, b) in shapes.items()]


def softmax_cases():
    cases = []
    for op in ("Softmax", "LogSoftmax"):
        for axis, opset in ((1, DEFAULT_OPSET), (-1, DEFAULT_OPSET), (1, 11)):
            # Before opset 13 the input is coerced to 2-D: axis 1 covers axes 1 and 2 together.
            suffix = f"axis{'_minus1' if axis < 0 else axis}" + ("_opset11" if opset == 11 else "")
            cases.append(Case(f"{op.lower()}_{suffix}", op, [("X", Diff((2, 3, 4), uniform(-2, 2)))],
                              outputs=["output"], attrs=dict(axis=axis), opset=opset,
                              torch_fn=torch_softmax_2d(op == "LogSoftmax") if opset < 13 else None))
    return cases


def arithmetic_cases():
    cases = []
    # "_broadcast": both operands broadcast ((2, 1, 4) with (3, 1)), so both gradients reduce.
    for op in ("Add", "Sub", "Mul"):
        for suffix, a, b in (("", (2, 3, 4), (2, 3, 4)), ("_broadcast", (2, 1, 4), (3, 1)),
                             ("_scalar", (2, 3, 4), ())):
            cases.append(Case(f"{op.lower()}{suffix}", op, [("A", Diff(a)), ("B", Diff(b))],
                              outputs=["C"]))
    divisor, base = magnitude(0.5, 1.5), uniform(0.5, 1.5)
    parts = [("data_0", Diff((2, 3))), ("data_1", Diff((3,))), ("data_2", Diff((2, 1)))]
    cases += [
        Case("div_broadcast", "Div", [("A", Diff((2, 1, 4))), ("B", Diff((3, 1), divisor))],
             outputs=["C"]),
        Case("div_broadcast_divisor", "Div", [("A", Diff((3, 1))), ("B", Diff((2, 3, 4), divisor))],
             outputs=["C"]),
        Case("pow_broadcast_exponent", "Pow", [("X", Diff((3, 4), base)), ("Y", Diff((4,)))],
             outputs=["Z"]),
        Case("pow_broadcast_base", "Pow",
             [("X", Diff((4,), base)), ("Y", Diff((2, 3, 4), uniform(-2, 2)))],
             outputs=["Z"]),
        Case("prelu_channel_slope", "PRelu",
             [("X", Diff((2, 3, 4, 4), magnitude(0.05, 1.0))), ("slope", Diff((3, 1, 1)))]),
        Case("prelu_single_slope", "PRelu",
             [("X", Diff((2, 3, 4), magnitude(0.05, 1.0))), ("slope", Diff((1,)))]),
        Case("sum_broadcast3", "Sum", parts, outputs=["sum"]),
        Case("mean_broadcast3", "Mean", parts, outputs=["mean"]),
        # Distinct over all inputs together: no ties after broadcasting.
        Case("max_broadcast3", "Max", parts, outputs=["max"], draw=distinct_inputs()),
        Case("min_broadcast3", "Min", parts, outputs=["min"], draw=distinct_inputs()),
    ]
    return cases


def activation_cases():
    def unary(name, op, draw, attrs=None, opset=DEFAULT_OPSET, torch_fn=None):
        return Case(name, op, [("X", Diff((3, 4, 5), draw))], attrs=attrs or {}, opset=opset,
                    torch_fn=torch_fn)

    off_zero = magnitude(0.1, 3.0)
    clip = dict(min=np.array(-1.0, np.float32), max=np.array(0.5, np.float32))
    return [
        unary("relu", "Relu", off_zero),
        unary("leaky_relu_alpha0_2", "LeakyRelu", off_zero, dict(alpha=0.2)),
        unary("sigmoid", "Sigmoid", uniform(-4, 4)),
        unary("tanh", "Tanh", uniform(-3, 3)),
        unary("elu_alpha0_7", "Elu", off_zero, dict(alpha=0.7)),
        unary("selu", "Selu", off_zero),
        # Kinks where alpha x + beta = 0 or 1.
        unary("hard_sigmoid", "HardSigmoid", away_from([-2.5, 2.5], 0.1, -4, 4)),
        unary("hard_sigmoid_alpha0_3_beta0_4", "HardSigmoid", away_from([-4 / 3, 2], 0.1, -3, 3.5),
              dict(alpha=0.3, beta=0.4)),
        unary("hard_swish", "HardSwish", away_from([-3, 3], 0.1, -4.5, 4.5), torch_fn=torch_hard_swish),
        unary("softplus", "Softplus", uniform(-4, 4)),
        unary("gelu", "Gelu", uniform(-3, 3), opset=20, torch_fn=torch_gelu),
        unary("gelu_tanh", "Gelu", uniform(-3, 3), dict(approximate="tanh"), opset=20,
              torch_fn=torch_gelu),
        unary("mish", "Mish", uniform(-3, 3)),
        unary("erf", "Erf", uniform(-2, 2), torch_fn=torch_erf),
        unary("exp", "Exp", uniform(-2, 2)),
        unary("log", "Log", uniform(0.2, 3)),
        unary("sqrt", "Sqrt", uniform(0.2, 3)),
        unary("abs", "Abs", off_zero),
        unary("neg", "Neg", uniform()),
        unary("reciprocal", "Reciprocal", magnitude(0.3, 2.0)),
        unary("identity", "Identity", uniform()),
        Case("clip_min_max", "Clip", [("X", Diff((3, 4, 5), away_from([-1, 0.5], 0.05, -2, 2))),
                                      ("min", clip["min"]), ("max", clip["max"])]),
        Case("clip_max_only", "Clip", [("X", Diff((3, 4, 5), away_from(0.5, 0.05, -2, 2))),
                                       ("min", None), ("max", clip["max"])]),
        # Before opset 11 the bounds are attributes.
        Case("clip_opset10_attributes", "Clip", [("X", Diff((3, 4, 5), away_from([0, 6], 0.1, -2, 8)))],
             attrs=dict(min=0.0, max=6.0), opset=10),
        # Inference: the identity (ratio ignored without training_mode).
        Case("dropout", "Dropout", [("data", Diff((3, 4, 5)))], outputs=["output"]),
        Case("dropout_ratio_training_mode_false", "Dropout",
             [("data", Diff((3, 4, 5))), ("ratio", np.array(0.3, np.float32)),
              ("training_mode", np.array(False))], outputs=["output"]),
    ]


def movement_cases():
    x = Diff((2, 3, 4))
    return [
        Case("concat_axis1", "Concat", [("X0", x), ("X1", Diff((2, 2, 4))), ("X2", Diff((2, 1, 4)))],
             attrs=dict(axis=1)),
        Case("concat_axis_minus1", "Concat", [("X0", x), ("X1", Diff((2, 3, 2)))], attrs=dict(axis=-1)),
        Case("split_axis2_sizes", "Split", [("X", x), ("split", i64(1, 3))], outputs=["Y0", "Y1"],
             seeds=["Y0", "Y1"], attrs=dict(axis=2)),
        # 5 into 2 parts: 3 + 2.
        Case("split_num_outputs", "Split", [("X", Diff((2, 3, 5)))], outputs=["Y0", "Y1"],
             seeds=["Y0", "Y1"], attrs=dict(axis=-1, num_outputs=2)),
        Case("slice_steps_negative", "Slice", [("X", x), ("starts", i64(0, 3)), ("ends", i64(2, -5)),
                                               ("axes", i64(1, 2)), ("steps", i64(1, -2))]),
        # Out-of-range starts / ends clamp.
        Case("slice_steps2_clamped", "Slice", [("X", Diff((3, 4, 5))), ("starts", i64(1, -100)),
                                               ("ends", i64(100, 4)), ("axes", i64(0, -1)),
                                               ("steps", i64(1, 2))]),
        Case("slice_reverse_axis", "Slice", [("X", Diff((3, 4, 5))), ("starts", i64(-1)),
                                             ("ends", i64(-100)), ("axes", i64(1)),
                                             ("steps", i64(-1))]),
        Case("slice_no_axes_steps", "Slice",
             [("X", x), ("starts", i64(1, 0, 1)), ("ends", i64(2, 3, 4))]),
        Case("transpose_perm2_0_1", "Transpose", [("X", x)], attrs=dict(perm=[2, 0, 1])),
        Case("transpose_default_reverse", "Transpose", [("X", x)]),
        Case("reshape_4_minus1", "Reshape", [("X", x), ("shape", i64(4, -1))]),
        Case("reshape_0_minus1_2", "Reshape", [("X", x), ("shape", i64(0, -1, 2))]),
        Case("flatten_axis2", "Flatten", [("X", x)], attrs=dict(axis=2)),
        Case("flatten_axis0", "Flatten", [("X", x)], attrs=dict(axis=0)),
        Case("squeeze_axis1", "Squeeze", [("X", Diff((2, 1, 3))), ("axes", i64(1))]),
        Case("squeeze_all", "Squeeze", [("X", Diff((2, 1, 3, 1)))]),
        Case("unsqueeze_axes1_minus1", "Unsqueeze", [("X", x), ("axes", i64(1, -1))]),
        Case("expand_3_1_to_2_3_4", "Expand", [("X", Diff((3, 1))), ("shape", i64(2, 3, 4))]),
        Case("expand_bidirectional", "Expand", [("X", Diff((1, 4))), ("shape", i64(3, 1))]),
        # Repeated and negative indices (the backward pass must accumulate).
        Case("gather_axis0", "Gather", [("data", Diff((3, 4))), ("indices", i64(2, -1, 0, 2))],
             attrs=dict(axis=0)),
        Case("gather_axis1_2d_indices", "Gather", [("data", x), ("indices", i64([0, 2], [2, -1]))],
             attrs=dict(axis=1)),
        Case("gather_scalar_index", "Gather", [("data", x), ("indices", scalar64(-2))],
             attrs=dict(axis=-1)),
        *[Case(f"pad_{mode}", "Pad", [("data", x), ("pads", i64(0, 1, 2, 0, 2, 1))],
               attrs=dict(mode=mode), opset=19 if mode == "wrap" else DEFAULT_OPSET)
          for mode in ("reflect", "edge", "wrap")],
        Case("pad_constant_value", "Pad", [("data", x), ("pads", i64(0, 1, 2, 0, 2, 1)),
                                           ("constant_value", np.array(0.5, np.float32))]),
        # Negative pads crop (the reference rejects them); axes restricts the pads to axes 1, 2.
        Case("pad_edge_axes_negative", "Pad", [("data", x), ("pads", i64(2, -1, -1, 3)),
                                               ("constant_value", None), ("axes", i64(1, -1))],
             attrs=dict(mode="edge"), torch_fn=torch_pad),
        Case("pad_constant_negative", "Pad", [("data", x), ("pads", i64(-1, 1, 2, 0, -2, 1)),
                                              ("constant_value", np.array(-0.5, np.float32))],
             torch_fn=torch_pad),
    ]


def resize_cases():
    """X (1, 2, 3, 4); scales are tensor(float) (float32 in the float64 model too)."""
    def resize(name, attrs, scales=None, sizes=None):
        inputs = [("X", Diff((1, 2, 3, 4))), ("roi", None),
                  ("scales", None if scales is None else np.array(scales, np.float32)),
                  ("sizes", None if sizes is None else i64(*sizes))]
        return Case(name, "Resize", inputs, attrs=attrs, float32_initializers=("scales",),
                    torch_fn=torch_resize_cubic if attrs["mode"] == "cubic" else None)

    up, down = (1, 1, 2, 1.5), (1, 1, 0.6, 0.5)
    cases = [resize("resize_nearest_asymmetric_floor", dict(
        mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"), up)]
    cases += [resize(f"resize_linear_{mode}",
                     dict(mode="linear", coordinate_transformation_mode=mode), up)
              for mode in ("half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel")]
    cases += [
        # Width 4 -> 7: output 3 maps exactly to 1.5, where round_prefer_floor decides.
        resize("resize_nearest_half_pixel_sizes", dict(mode="nearest"), sizes=(1, 2, 5, 7)),
        resize("resize_linear_half_pixel_down", dict(mode="linear"), down),
        resize("resize_linear_align_corners_sizes", dict(
            mode="linear", coordinate_transformation_mode="align_corners"), sizes=(1, 2, 5, 7)),
        resize("resize_linear_antialias_down", dict(mode="linear", antialias=1), down),
        resize("resize_linear_axes2_3", dict(mode="linear", axes=[2, 3]), (2, 1.5)),
        resize("resize_cubic_half_pixel", dict(mode="cubic"), up),
        resize("resize_cubic_align_corners_exclude_outside_sizes", dict(
            mode="cubic", coordinate_transformation_mode="align_corners", cubic_coeff_a=-0.5,
            exclude_outside=1), sizes=(1, 2, 5, 7)),
    ]
    # Upsample (deprecated at opset 10): scales as input 1, asymmetric coordinates.
    cases += [Case(f"upsample_{mode}", "Upsample", [("X", Diff((1, 2, 3, 4))),
                                                    ("scales", np.array(up, np.float32))],
                   attrs=dict(mode=mode), opset=9, float32_initializers=("scales",),
                   torch_fn=torch_upsample)
              for mode in ("nearest", "linear")]
    return cases


def all_cases():
    return (indexing_cases() + reduce_cases() + normalization_cases() + layout_cases()
            + einsum_cases() + unary_cases() + sampling_cases() + recurrent_cases()
            + convolution_cases() + pooling_cases() + classic_normalization_cases() + matmul_cases()
            + softmax_cases() + arithmetic_cases() + activation_cases() + movement_cases()
            + resize_cases())


# ------------------------------------------------------------ models

def build_model(case, elem_type, output_shapes):
    """The single-node model with float tensors of `elem_type` (FLOAT or DOUBLE)."""
    attrs = dict(case.attrs)
    if elem_type == TensorProto.DOUBLE and case.attrs64:
        attrs.update(case.attrs64)
    node = helper.make_node(case.op, [n if s is not None else "" for n, s in case.inputs],
                            case.node_outputs or case.outputs, name=case.name, **attrs)
    while node.input and not node.input[-1]:
        node.input.pop()
    graph_inputs, initializers = [], []
    for name, spec in case.inputs:
        if isinstance(spec, Diff):
            graph_inputs.append(helper.make_tensor_value_info(name, elem_type, list(spec.shape)))
        elif spec is not None:
            value = spec.astype(helper.tensor_dtype_to_np_dtype(elem_type)) \
                if spec.dtype.kind == "f" and name not in case.float32_initializers else spec
            initializers.append(numpy_helper.from_array(value, name))
    outputs = [helper.make_tensor_value_info(o, elem_type, list(output_shapes[o]))
               for o in case.outputs] if output_shapes else \
        [helper.make_tensor_value_info(o, elem_type, None) for o in case.outputs]
    graph = helper.make_graph([node], case.name, graph_inputs, outputs, initializers)
    opsets = [helper.make_opsetid("", case.opset)]
    return helper.make_model(graph, opset_imports=opsets, producer_name="op_gradients.py",
                             ir_version=helper.find_min_ir_version_for(opsets))


class Evaluator:
    """Float64 outputs {name: array} of the case's node for float64 graph inputs."""

    def __init__(self, case):
        self.case = case
        self.kind = "torch" if case.torch_fn else "onnx.reference"
        if case.torch_fn:
            self.constants = {n: (s.astype(np.float64) if s.dtype.kind == "f" else s)
                              for n, s in case.inputs if isinstance(s, np.ndarray)}
        else:
            self.reference = ReferenceEvaluator(build_model(case, TensorProto.DOUBLE, None))

    def __call__(self, feeds):
        case = self.case
        if case.torch_fn:
            args = [feeds[n] if isinstance(s, Diff) else self.constants.get(n)
                    for n, s in case.inputs]
            results = case.torch_fn(case.attrs, *args)
            values = dict(zip(case.node_outputs or case.outputs, results))
        else:
            values = dict(zip(case.outputs, self.reference.run(case.outputs, feeds)))
        for name, value in values.items():
            if np.asarray(value).dtype != np.float64:
                raise TypeError(f"{case.name}: evaluator returned {value.dtype} for {name}")
        return {o: np.asarray(values[o]) for o in case.outputs}


def onnxruntime_outputs(model, feeds32, names):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), opts,
                                   providers=["CPUExecutionProvider"])
    return dict(zip(names, session.run(names, feeds32)))


def batch_major(shape):
    """[A, B, ...] -> [B, A, ...] (layout 0 <-> 1 for X, initial_h, initial_c)."""
    return (shape[1], shape[0]) + tuple(shape[2:])


def onnxruntime_layout1(case, feeds32, output_shapes):
    """onnxruntime rejects layout=1 for LSTM / GRU / RNN: run the layout-0 node on the
    transposed X / initial_h / initial_c and transpose its outputs to layout 1."""
    swapped = {"X", "initial_h", "initial_c"}
    inputs = [(n, Diff(batch_major(s.shape)) if n in swapped and isinstance(s, Diff) else s)
              for n, s in case.inputs]
    plain = Case(case.name, case.op, inputs, outputs=case.outputs,
                 attrs={**case.attrs, "layout": 0}, opset=case.opset)
    shapes = {o: (s[1], s[2], s[0], s[3]) if o == "Y" else batch_major(s)
              for o, s in output_shapes.items()}
    feeds = {n: v.swapaxes(0, 1).copy() if n in swapped else v for n, v in feeds32.items()}
    values = onnxruntime_outputs(build_model(plain, TensorProto.FLOAT, shapes), feeds, case.outputs)
    return {o: v.transpose(2, 0, 1, 3) if o == "Y" else v.swapaxes(0, 1) for o, v in values.items()}


def ort_check(case, model, feeds32, values):
    """(max |y64 - y32|, max |y64|) over all outputs; exits if beyond tolerance."""
    if case.op in GATES and case.attrs.get("layout", 0):
        reference = onnxruntime_layout1(case, feeds32, {o: v.shape for o, v in values.items()})
    else:
        reference = onnxruntime_outputs(model, feeds32, case.outputs)
    worst, scale = 0.0, 0.0
    for name in case.outputs:
        got, ref = values[name], reference[name].astype(np.float64)
        if got.shape != ref.shape:
            sys.exit(f"{case.name}: float64 {name} has shape {got.shape}, onnxruntime {ref.shape}")
        diff, top = float(np.abs(got - ref).max(initial=0)), float(np.abs(got).max(initial=0))
        if not diff <= ORT_RELATIVE * top + ORT_ABSOLUTE:
            sys.exit(f"{case.name}: float64 evaluator disagrees with onnxruntime on {name}: "
                     f"max|diff| = {diff:.3g}, max|y| = {top:.3g}")
        worst, scale = max(worst, diff), max(scale, top)
    return worst, scale


# ------------------------------------------------------------ finite differences

def draw_inputs(case, rng):
    shapes = {n: s.shape for n, s in case.inputs if isinstance(s, Diff)}
    if case.draw:
        values = case.draw(rng, shapes)
    else:
        values = {n: (s.draw or uniform())(rng, s.shape)
                  for n, s in case.inputs if isinstance(s, Diff)}
    return {n: np.asarray(values[n], dtype=np.float32).reshape(shapes[n]) for n in shapes}


def losses(values, cotangents):
    return np.array([float(np.dot(r.ravel(), values[o].ravel())) for o, r in cotangents.items()])


def central_differences(evaluate, feeds, cotangents):
    """{seed output: {input: float64 gradient}}, the number of probes whose one-sided
    differences disagree, and the largest |forward - backward| / tolerance seen."""
    base_values = evaluate(feeds)
    l0 = losses(base_values, cotangents)
    scale = sum(float(np.abs(r * base_values[o]).sum()) for o, r in cotangents.items()) + 1.0
    grads = {o: {} for o in cotangents}
    kinks, worst = 0, 0.0
    for name in feeds:
        base = feeds[name]
        flat = {o: np.empty(base.size) for o in cotangents}
        for i in range(base.size):
            x = base.reshape(-1)[i]
            h = STEP * max(1.0, abs(x))
            xp, xm = x + h, x - h
            probe = dict(feeds)
            t = base.copy().reshape(-1)
            t[i] = xp
            probe[name] = t.reshape(base.shape)
            lp = losses(evaluate(probe), cotangents)
            t = base.copy().reshape(-1)
            t[i] = xm
            probe[name] = t.reshape(base.shape)
            lm = losses(evaluate(probe), cotangents)
            forward, backward = (lp - l0) / (xp - x), (l0 - lm) / (x - xm)
            tolerance = KINK_RELATIVE * np.maximum(1.0, np.maximum(abs(forward), abs(backward))) \
                + 1e-12 * scale / h
            ratio = float((np.abs(forward - backward) / tolerance).max())
            worst = max(worst, ratio)
            kinks += ratio > 1.0
            for k, o in enumerate(cotangents):
                flat[o][i] = (lp[k] - lm[k]) / (xp - xm)
        for o in cotangents:
            grads[o][name] = flat[o].reshape(base.shape)
    return grads, kinks, worst


def seeded_name(case, output):
    seeds = case.seeds or case.outputs[:1]
    return case.name if output == seeds[0] else f"{case.name}_{output}"


def run_case(case, outdir):
    start = time.perf_counter()
    evaluate = Evaluator(case)
    seeds = case.seeds or case.outputs[:1]
    base_seed = zlib.crc32(case.name.encode())
    for attempt in range(MAX_ATTEMPTS):
        seed = base_seed + attempt
        rng = np.random.default_rng(seed)
        inputs32 = draw_inputs(case, rng)
        feeds = {n: v.astype(np.float64) for n, v in inputs32.items()}
        values = evaluate(feeds)
        if case.check and not case.check(feeds, values):
            continue
        cotangents32 = {o: rng.uniform(-1, 1, values[o].shape).astype(np.float32) for o in seeds}
        cotangents = {o: r.astype(np.float64) for o, r in cotangents32.items()}
        grads, kinks, worst = central_differences(evaluate, feeds, cotangents)
        if kinks == 0:
            break
        print(f"  {case.name}: seed {seed}: {kinks} probes cross a kink, redrawing")
    else:
        sys.exit(f"{case.name}: no kink-free inputs in {MAX_ATTEMPTS} draws")

    model = build_model(case, TensorProto.FLOAT, {o: values[o].shape for o in case.outputs})
    onnx.checker.check_model(model)
    try:
        onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except onnx.shape_inference.InferenceError as error:
        print(f"  {case.name}: note: onnx shape inference fails: {str(error).splitlines()[0]}")
    ort_diff, ort_scale = ort_check(case, model, inputs32, values)

    folder = outdir / "op-gradients"
    model_path = folder / f"{case.name}.onnx"
    onnx.save(model, model_path)
    input_paths = {}
    for name, value in inputs32.items():
        input_paths[name] = folder / f"{case.name}.{name}.npy"
        np.save(input_paths[name], value)
    entries = []
    for o in seeds:
        name = seeded_name(case, o)
        cotangent_path = folder / f"{name}.cotangent.npy"
        np.save(cotangent_path, cotangents32[o])
        grad_paths = {}
        for n, g in grads[o].items():
            grad_paths[n] = folder / f"{name}.grad.{n}.npy"
            np.save(grad_paths[n], g)
        entries.append({
            "name": name, "op_type": case.op, "model": str(model_path),
            "inputs": {n: str(p) for n, p in input_paths.items()}, "output": o,
            "cotangent": str(cotangent_path), "gradients": {n: str(p) for n, p in grad_paths.items()},
            "evaluator": evaluate.kind, "step": STEP, "seed": seed,
            "ort_max_abs_diff": ort_diff, "ort_max_abs": ort_scale})
    elements = sum(v.size for v in inputs32.values())
    print(f"{case.name:44s} {case.op:26s} {evaluate.kind:15s} ort diff {ort_diff:.1e} "
          f"(max|y| {ort_scale:.2g})  {elements:4d} probes, kink ratio {worst:.1e}, "
          f"{time.perf_counter() - start:.2f} s")
    return entries


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--only", nargs="*", default=None,
                        help="run only the cases whose name contains one of these strings")
    args = parser.parse_args(argv)
    outdir = args.outdir.resolve()
    (outdir / "op-gradients").mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    cases = all_cases()
    names = [c.name for c in cases]
    if len(set(names)) != len(names):
        sys.exit("duplicate case names")
    if args.only is not None:
        cases = [c for c in cases if any(s in c.name for s in args.only)]
    entries = [e for case in cases for e in run_case(case, outdir)]
    out = outdir / "op-gradients" / "cases.json"
    out.write_text(json.dumps({"cases": entries}, indent=1) + "\n")
    print(f"{len(entries)} cases -> {out} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
