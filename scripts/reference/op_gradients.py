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
    float64 copy (every float tensor DOUBLE; GroupNormalization also gets stash_type=11
    there, because stash_type=1 would round its first stage to float32).
 2. The float inputs are drawn from np.random.default_rng(seed) as float32 values, away
    from the op's kinks (distinct values for ReduceMax/Min/TopK, |x| >= 0.1 where |x|
    appears, fmod quotients with fractional part in [0.2, 0.8], ThresholdedRelu inputs
    >= 0.1 from alpha, GridSample source coordinates with fractional part in [0.1, 0.9],
    RNN Relu pre-activations >= 0.02 from 0, ...). The float64 evaluation uses exactly
    these float32 values. The cotangent r (output shape, U(-1, 1)) is float32 too.
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


def away_from(point, margin, low, high):
    """U(low, high) conditioned on |x - point| >= margin."""
    def draw(rng, shape):
        x = rng.uniform(low, high, shape)
        bad = np.abs(x - point) < margin
        while bad.any():
            x[bad] = rng.uniform(low, high, int(bad.sum()))
            bad = np.abs(x - point) < margin
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


def all_cases():
    return (indexing_cases() + reduce_cases() + normalization_cases() + layout_cases()
            + einsum_cases() + unary_cases() + sampling_cases() + recurrent_cases())


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
                if spec.dtype.kind == "f" else spec
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
