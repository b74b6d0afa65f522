#!/usr/bin/env python3
"""Reference gradient and perturbation attributions, computed as Captum 0.9.0 defines them, in NumPy float64.

Usage: python3 scripts/reference/saliency_reference.py OUTDIR --cnn-viz PATH_TO_BINARY [--shared DIR]

Nothing here imports torch or Captum. Every formula below was re-derived from Captum's source
(attr/_core: saliency.py, input_x_gradient.py, integrated_gradients.py,
guided_backprop_deconvnet.py, guided_grad_cam.py, layer/grad_cam.py, occlusion.py,
feature_ablation.py; attr/_utils: approximation_methods.py, attribution.py) and from
DESIGN.md ("Gradient methods, as Captum defines them"), and is written in NumPy.

What is tested. The gradients come from the cnn-viz binary itself: `cnn-viz run --model M
--tensor X.npy --backward OUTPUT:CLASS --wrt input [--guided | --deconvnet]` (the gradient
engine is checked separately against finite differences). The formulas that turn them into
attributions are what these references pin down. Forward values f (logits) come from
onnxruntime. Arithmetic is float64; every attribution is saved as float32 [1, C, H, W].

The target f. The pre-softmax logit of the class: for SqueezeNet the graph output is
`softmaxout_1` and cnn-viz seeds its input `pool10_1` by itself (a note on stderr); f is
`pool10_1` flattened. For the MNIST CNN the graph output `Plus214_Output_0` is the logits.
Captum's forward_func is therefore "the model cut at the pre-softmax logit"; g = ∂f/∂x is
taken with respect to the preprocessed tensor x (Caffe: BGR, 0–255 minus the mean; MNIST:
0–255 gray), so a zero baseline is the mean colour, not black.

Methods (g(z) = ∂f/∂x at z; ⊙ is elementwise; all attributions keep their sign):
  gradient           g(x)                         (Saliency(abs=False))
  input-x-gradient   x ⊙ g(x)
  integrated-gradients
      A = (x − b) ⊙ Σ_i s_i · g(b + α_i (x − b)),  i = 0 … n−1, n = 16.
      riemann_trapezoid: α_i = torch.linspace(0, 1, n) in float32 (step = 1/(n−1) rounded to
        float32; α_i = step·i for i < n/2, else 1 − step·(n−1−i), each rounded to float32, so
        α_0 = 0 and α_{n−1} = 1 exactly and the rest are within 5e-8 of i/(n−1));
        s_i = 1/n, with s_0 and s_{n−1} halved (Σ s_i = (n−1)/n = 0.9375, not 1: Captum's
        "trapezoid" weights are the left/right Riemann weights 1/n with half-weight ends).
      gausslegendre: (t_i, w_i) = numpy.polynomial.legendre.leggauss(n) on [−1, 1];
        α_i = (1 + t_i)/2, s_i = w_i/2 (mapped to [0, 1]; Σ s_i = 1; α ascending).
      Captum multiplies α (a Python float) into a float32 tensor and builds s_i with
      torch.tensor(...).float(), so both are used here rounded to float32; the values are in
      the case's "options". The scaled inputs b + α_i (x − b) are computed in float64 and
      rounded once to float32 for cnn-viz (Captum does the same sum in float32: ≤ 1 ulp apart).
      Baselines: zero, and a custom one b = 0.5·x (saved as <case>_baseline.npy).
      Completeness: delta = f(x) − f(b) (onnxruntime), sum = Σ A; Captum's convergence delta
      is sum − delta (compute_convergence_delta: Σ attributions − (f(end) − f(start))).
      With riemann_trapezoid it cannot be small: Σ s_i = 15/16, so even for a linear f the
      sum is 15/16 of delta (a Captum quirk, kept: the references must equal Captum's).
  guided-backprop    the input gradient with every ReLU's backward replaced by
                     ReLU(grad_input) = g·[x > 0]·[g > 0]  (`--guided`)
  deconvnet          ReLU(grad_output) = g·[g > 0]         (`--deconvnet`)
                     Captum hooks torch.nn.ReLU modules; here every ONNX Relu node counts.
  guided-gradcam     guided-backprop(x) ⊙ U(LayerGradCam), broadcast over channels, where
                     LayerGradCam = ReLU(Σ_c mean_hw(g_L)_c · A_c) at layer L, with the plain
                     (unguided) gradient g_L = ∂f/∂A_L: no min-max normalisation, no
                     resize smoothing. U = F.interpolate(mode="nearest"), Captum's default
                     for GuidedGradCam: src = min(floor(dst · scale), in − 1) with
                     scale = float32(in)/out and the product in float32 (here: 13 → 224 and
                     14 → 28, where it is src = dst // 2).
  occlusion          Captum's Occlusion with sliding_window_shapes W, strides S, baseline 0:
                     per dimension k the window starts at j·S_k for j = 0 … ceil((D_k − W_k)/S_k)
                     (ceil + 1 positions, NOT only the windows that fit: the last one is cut at
                     the edge, because Captum pads the window of ones with a negative pad).
                     SqueezeNet: W = (3, 15, 15), S = (3, 8, 8) → 1 × 28 × 28 windows, the last
                     row/column covering 216…223 (8 pixels); MNIST: W = (1, 5, 5),
                     S = (1, 3, 3) → 1 × 9 × 9, the last covering 24…27 (4 pixels).
                     Each window sets its pixels to the baseline: x_w = x·(1 − m_w) + 0·m_w.
                     A = Σ_w (f(x) − f(x_w)) · m_w / Σ_w m_w   (FeatureAblation with
                     use_weights: the sum of differences over the windows that cover a pixel,
                     divided by how many cover it). Positive = occluding hurts the class.
                     Whole-input check: one window of shape (C, H, W) gives A = f(x) − f(0)
                     at every pixel (the same f(0) as integrated gradients' zero baseline).

Cases: (a) SqueezeNet 1.1 fp32 on gradcam_both.png (else skimage_chelsea.png), Caffe
preprocessing, class 243 (the top class) and 281 (tabby cat) — the same tensor as
cam_reference.py's squeezenet case; guided Grad-CAM layer fire9/concat_1 (13×13). (b) The
ONNX-zoo MNIST CNN on winml_mnist_28.png, its top-1 class (8) and class 3; guided Grad-CAM
layer ReLU114_Output_0 (14×14). Inputs are built by
cam_reference.py's code (same GROUPS, same preprocessing).

Blind spots: the gradient, guided-backprop and deconvnet references are cnn-viz's own
dumps (they test the command's plumbing, not the engine); the integrated-gradients and
guided-gradcam references test the formulas on top of those dumps; occlusion is independent
of cnn-viz altogether.

Writes
  OUTDIR/saliency/<case>_input.npy      float32 NCHW, the exact model input
  OUTDIR/saliency/<case>_baseline.npy   float32, 0.5·input (the custom IG baseline)
  OUTDIR/saliency/<case>_<method>[-<variant>].npy   float32 [1, C, H, W]
  OUTDIR/saliency_cases.json  {"cases": [{"name", "model", "input", "input_name", "output",
     "logits", "class", "score", "method", "options": {...}, "reference", "shape",
     "completeness": integrated gradients {"delta": f(x) − f(b), "sum": Σ A, "captum_delta":
     sum − delta}; whole-input occlusion {"delta": f(x) − f(0), "value": the constant map}}]}
A missing model or image skips its case with a note on stderr.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from math import ceil
from pathlib import Path

# Single-threaded BLAS and onnxruntime: reproducible, and faster on 2 busy cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cam_reference import GROUPS, PREPROCESS, batched, reference_arguments, session  # noqa: E402  (same inputs)
from decode_images import decode  # noqa: E402  (Pillow decoding, as cnn-viz decodes)


N_STEPS = 16
BASELINE_FACTOR = 0.5
SQUEEZENET = dict(group="squeezenet-both", output="softmaxout_1", layer="fire9/concat_1",
                  window=(3, 15, 15), stride=(3, 8, 8), batch=64)
# The MNIST graph reshapes to a fixed [1, 256], so onnxruntime runs one input at a time.
MNIST = dict(group="mnist-8", output="Plus214_Output_0", layer="ReLU114_Output_0",
             window=(1, 5, 5), stride=(1, 3, 3), batch=1)
# Each model for its top class and one other (the classes cam_reference.py explains).
CASES = [
    dict(SQUEEZENET, key="squeezenet-both", cls=243),      # bull mastiff, the top class
    dict(SQUEEZENET, key="squeezenet-both-281", cls=281),  # tabby cat
    dict(MNIST, key="mnist", cls=None),                    # the top class (8)
    dict(MNIST, key="mnist-3", cls=3),
]


# ------------------------------------------------------------------ Captum's formulas

def ig_parameters(method, n):
    """(alphas, step sizes) as Captum's approximation_methods.py builds them, rounded to float32."""
    if method == "riemann_trapezoid":
        # torch.linspace(0, 1, n), float32 CPU kernel: step = (end − start)/(n − 1) in float32;
        # the first half counts up from start, the second half down from end.
        f32 = np.float32
        step = f32(1) / f32(n - 1)
        alphas = [f32(0) + step * f32(i) if i < n // 2 else f32(1) - step * f32(n - 1 - i)
                  for i in range(n)]
        steps = [1 / n] * n
        steps[0] /= 2
        steps[-1] /= 2
    elif method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n)
        alphas = 0.5 * (1 + nodes)
        steps = 0.5 * weights
    else:
        raise ValueError(method)
    return (np.asarray(alphas, np.float32).astype(np.float64),
            np.asarray(steps, np.float32).astype(np.float64))


def integrated_gradients(x, baseline, alphas, steps, grads_at):
    """(x − b) ⊙ Σ_i s_i g(b + α_i (x − b)); grads_at(z_float32 [n, ...]) → g float64 [n, ...]."""
    z = np.concatenate([(baseline + alpha * (x - baseline)).astype(np.float32) for alpha in alphas])
    grads = grads_at(z)
    total = np.zeros_like(x)
    for step, g in zip(steps, grads):
        total += step * g.reshape(x.shape)
    return (x - baseline) * total


def nearest_indices(size_in, size_out):
    """torch F.interpolate(mode="nearest") source index per output index."""
    if size_in == size_out:
        return np.arange(size_out)
    scale = np.float32(size_in) / np.float32(size_out)
    return np.array([min(int(np.floor(np.float32(d) * scale)), size_in - 1) for d in range(size_out)])


def layer_gradcam(a, g):
    """Captum LayerGradCam(relu_attributions=True): ReLU(Σ_c mean_hw(g)_c A_c), (h, w)."""
    return np.maximum((g.mean(axis=(1, 2))[:, None, None] * a).sum(axis=0), 0)


def guided_gradcam(guided, a, g):
    """guided [1, C, H, W] ⊙ nearest-upsampled LayerGradCam [1, 1, H, W]."""
    cam = layer_gradcam(a, g)
    rows = nearest_indices(cam.shape[0], guided.shape[2])
    cols = nearest_indices(cam.shape[1], guided.shape[3])
    return guided * cam[rows][:, cols][None, None]


def occlusion_windows(shape, window, stride):
    """Captum's window slices over `shape` (C, H, W): ceil((D − W)/S) + 1 starts per dimension,
    each window cut at the far edge."""
    counts = []
    for d, w, s in zip(shape, window, stride):
        assert d >= w and (d == w or s <= w), (shape, window, stride)
        counts.append(int(ceil((d - w) / s)) + 1)
    slices = []
    for flat in range(int(np.prod(counts))):
        index, rest = [], flat
        for c, s in zip(counts, stride):       # Captum: the first dimension varies fastest
            index.append((rest % c) * s)
            rest //= c
        slices.append(tuple(slice(i, min(i + w, d)) for i, w, d in zip(index, window, shape)))
    return slices, counts


def occlusion(x, window, stride, f, batch):
    """Σ_w (f(x) − f(x_w)) m_w / Σ_w m_w with baseline 0; f(batch [k, C, H, W]) → [k] float64.
    Returns (attribution, f(x), window count, per-dimension counts)."""
    slices, counts = occlusion_windows(x.shape[1:], window, stride)
    base = float(f(x)[0])
    total = np.zeros(x.shape[1:])
    weight = np.zeros(x.shape[1:])
    for start in range(0, len(slices), batch):
        chunk = slices[start:start + batch]
        occluded = np.repeat(x, len(chunk), axis=0)
        for k, sl in enumerate(chunk):
            occluded[(k,) + sl] = 0.0
        values = f(occluded)
        for sl, value in zip(chunk, values):
            total[sl] += base - value
            weight[sl] += 1
    assert weight.min() > 0
    return (total / weight)[None], base, len(slices), counts


# ------------------------------------------------------------------ cnn-viz

class CnnViz:
    """`cnn-viz run` on one input: gradients and outputs, as float64 arrays."""

    def __init__(self, binary, model, output, cls, workdir):
        self.binary, self.model, self.output, self.cls = binary, model, output, cls
        self.workdir, self.calls, self.seconds = workdir, 0, 0.0
        self.batched_model = None

    def run(self, tensor, wrt, outputs=(), mode=None):
        self.calls += 1
        out = self.workdir / f"run{self.calls}"
        path = self.workdir / f"x{self.calls}.npy"
        np.save(path, tensor.astype(np.float32))
        command = [str(self.binary), "run", "--model", str(self.model), "--tensor", str(path)]
        for name in outputs:
            command += ["--output", name]
        command += ["--backward", f"{self.output}:{self.cls}", "--wrt", wrt, "--out", str(out), "--json"]
        if mode:
            command.append(f"--{mode}")
        t0 = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        self.seconds += time.perf_counter() - t0
        if done.returncode != 0:
            sys.exit(f"saliency_reference: {' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
        manifest = json.loads(done.stdout)
        outs = {n: np.load(p).astype(np.float64) for n, p in manifest.get("outputs", {}).items()}
        return np.load(manifest["gradients"][wrt]).astype(np.float64), outs, manifest

    def input_gradient(self, tensor, mode=None):
        return self.run(tensor, "input", mode=mode)[0].reshape(tensor.shape)

    def input_gradients(self, tensors):
        """The gradients of a batch [n, C, H, W]: one run of the whole batch through
        `self.batched_model` (a copy with a symbolic batch dimension) where the graph takes one,
        else one run per item."""
        if self.batched_model is None:
            return np.stack([self.input_gradient(t[None]) for t in tensors])
        model, self.model = self.model, self.batched_model
        try:
            return self.input_gradient(tensors)
        finally:
            self.model = model


# ------------------------------------------------------------------ one case

def stats(a):
    return f"min {a.min():+.6g} max {a.max():+.6g} sum {a.sum():+.6g}"


def run_case(spec, shared, binary, workdir, saldir):
    group = next(g for g in GROUPS if g["key"] == spec["group"])
    data = shared / "data"
    model_path = (data / "models" / group["model"]).resolve()
    image = next((data / "images" / n for n in group["images"] if (data / "images" / n).is_file()), None)
    if not model_path.is_file() or image is None:
        print(f"saliency_reference: {model_path} or one of {group['images']} not found, "
              f"skipping {spec['key']}", file=sys.stderr)
        return []
    t_start = time.perf_counter()
    key, logits_name, layer = spec["key"], group["logits"], spec["layer"]
    x32 = PREPROCESS[group["preprocess"]](decode(image.resolve())[0])
    x = x32.astype(np.float64)
    model = onnx.load(model_path)
    initializers = {i.name for i in model.graph.initializer}
    input_name = next(i.name for i in model.graph.input if i.name not in initializers)

    # onnxruntime: pre-softmax logits (any batch size the graph allows) and A at the layer.
    sess = session(batched(model, [logits_name, layer]))
    logits_sess = session(batched(model, [logits_name]))

    def logits(batch_x):
        rows = [logits_sess.run(None, {input_name: batch_x[i:i + spec["batch"]].astype(np.float32)})[0]
                for i in range(0, len(batch_x), spec["batch"])]
        return np.concatenate(rows).reshape(len(batch_x), -1).astype(np.float64)

    ort_logits, ort_layer = (v.astype(np.float64) for v in sess.run(None, {input_name: x32}))
    ort_logits = ort_logits.reshape(-1)
    cls = spec["cls"] if spec["cls"] is not None else int(np.argmax(ort_logits))

    def f(batch_x):
        return logits(batch_x)[:, cls]

    score = float(ort_logits[cls])
    print(f"{key}: {image.name} → {group['model']}, class {cls}, f(x) = {score:.6g} ({logits_name})")
    viz = CnnViz(binary, model_path, spec["output"], cls, workdir / key)
    (workdir / key).mkdir()
    if spec["batch"] > 1:
        # Integrated gradients: cnn-viz runs all 16 points of a path as one batch (its default
        # batch size is 32), so the reference takes their gradients from one batched run too.
        # A single-image run can differ where the gradient is decided by ties (the zero
        # baseline: every activation constant, every max-pool window tied), which rounding
        # breaks differently for different batch sizes.
        viz.batched_model = workdir / key / "batched.onnx"
        onnx.save(batched(onnx.load(model_path), [logits_name]), viz.batched_model)

    input_path = saldir / f"{key}_input.npy"
    np.save(input_path, x32)
    baseline32 = (x32 * np.float32(BASELINE_FACTOR)).astype(np.float32)
    baseline_path = saldir / f"{key}_baseline.npy"
    np.save(baseline_path, baseline32)

    # cnn-viz's logits and layer activations agree with onnxruntime's?
    _, outs, manifest = viz.run(x32, "input", outputs=[logits_name, layer])
    logit_gap = float(np.abs(outs[logits_name].reshape(-1) - ort_logits).max())
    layer_gap = float(np.abs(outs[layer] - ort_layer).max() / max(np.abs(ort_layer).max(), 1e-30))
    if layer_gap > 1e-4:
        sys.exit(f"saliency_reference: cnn-viz's {layer} differs from onnxruntime's by {layer_gap:.3g} (relative)")
    seeded = manifest.get("seed", {}).get("tensor", spec["output"])
    if seeded != logits_name:
        sys.exit(f"saliency_reference: cnn-viz seeded {seeded}, expected the pre-softmax {logits_name}")

    entries = []

    def emit(tag, method, attribution, options, completeness=None):
        path = saldir / f"{key}_{tag}.npy"
        np.save(path, attribution.astype(np.float32))
        entry = {"name": key, "model": str(model_path), "image": str(image.resolve()),
                 "preprocess": group["preprocess"], "input": str(input_path),
                 "input_name": input_name, "output": spec["output"], "logits": logits_name,
                 "class": cls, "score": score, "method": method, "options": options,
                 "reference": str(path), "shape": [int(s) for s in attribution.shape]}
        line = f"    {tag:<46} {stats(attribution)}"
        if completeness is not None and "value" in completeness:       # whole-input occlusion
            entry["completeness"] = completeness
            line += (f"\n    {'':<46} f(x) − f(0) = {completeness['delta']:+.6g}, "
                     f"map value {completeness['value']:+.6g}")
        elif completeness is not None:                                 # integrated gradients
            completeness["captum_delta"] = completeness["sum"] - completeness["delta"]
            entry["completeness"] = completeness
            line += (f"\n    {'':<46} f(x) − f(b) = {completeness['delta']:+.6g}, "
                     f"Σ − (f(x) − f(b)) = {completeness['captum_delta']:+.3g}")
        entries.append(entry)
        print(line)

    t0 = time.perf_counter()
    grad = viz.input_gradient(x32)
    emit("gradient", "gradient", grad, {})
    emit("input-x-gradient", "input-x-gradient", x * grad, {})

    f_x = float(f(x32)[0])
    for captum_method, cli, base_name, b in [
            ("riemann_trapezoid", "riemann-trapezoid", "zero", np.zeros_like(x)),
            ("gausslegendre", "gauss-legendre", "zero", np.zeros_like(x)),
            ("riemann_trapezoid", "riemann-trapezoid", "half", baseline32.astype(np.float64))]:
        alphas, steps = ig_parameters(captum_method, N_STEPS)
        attribution = integrated_gradients(x, b, alphas, steps, viz.input_gradients)
        delta = f_x - float(f(b.astype(np.float32))[0])
        options = {"n_steps": N_STEPS, "integration": cli, "captum_method": captum_method,
                   "baseline": "zero" if base_name == "zero" else str(baseline_path),
                   "alphas": alphas.tolist(), "step_sizes": steps.tolist()}
        emit(f"integrated-gradients-{cli}-{base_name}", "integrated-gradients", attribution, options,
             {"delta": delta, "sum": float(attribution.sum())})
    f_zero = float(f(np.zeros_like(x32))[0])

    guided = viz.input_gradient(x32, mode="guided")
    emit("guided-backprop", "guided-backprop", guided, {"relu": "g·[x > 0]·[g > 0]"})
    emit("deconvnet", "deconvnet", viz.input_gradient(x32, mode="deconvnet"), {"relu": "g·[g > 0]"})

    g_layer, outs, _ = viz.run(x32, layer, outputs=[layer])
    a_layer = outs[layer][0]
    g_layer = g_layer[0]
    cam = layer_gradcam(a_layer, g_layer)
    emit("guided-gradcam", "guided-gradcam", guided_gradcam(guided, a_layer, g_layer),
         {"layer": layer, "interpolate_mode": "nearest", "gradcam_shape": list(cam.shape),
          "gradcam_min": float(cam.min()), "gradcam_max": float(cam.max())})
    t1 = time.perf_counter()

    window, stride = spec["window"], spec["stride"]
    attribution, base, count, counts = occlusion(x32.astype(np.float64), window, stride,
                                                 lambda z: f(z.astype(np.float32)), spec["batch"])
    emit("occlusion", "occlusion", attribution,
         {"window": list(window), "stride": list(stride), "baseline": 0.0,
          "positions": counts, "evaluations": count})
    whole = tuple(x32.shape[1:])
    attribution, _, _, _ = occlusion(x32.astype(np.float64), whole, whole,
                                     lambda z: f(z.astype(np.float32)), spec["batch"])
    emit("occlusion-whole", "occlusion", attribution,
         {"window": list(whole), "stride": list(whole), "baseline": 0.0, "positions": [1, 1, 1],
          "evaluations": 1},
         {"delta": f_x - f_zero, "value": float(attribution.flat[0])})
    assert np.ptp(attribution) == 0 and abs(attribution.flat[0] - (f_x - f_zero)) < 1e-9
    t2 = time.perf_counter()

    print(f"  f(0) = {f_zero:.6g}; |cnn-viz − onnxruntime| logits {logit_gap:.3g}, {layer} "
          f"{layer_gap:.2e} (relative); LayerGradCam {list(cam.shape)} max {cam.max():.6g}")
    print(f"  timing: setup {t0 - t_start:.1f} s, gradient methods {t1 - t0:.1f} s "
          f"({viz.calls} cnn-viz runs, {viz.seconds:.1f} s in cnn-viz), occlusion {t2 - t1:.1f} s "
          f"({count} + 1 windows, onnxruntime batch {spec['batch']})")
    return entries


def main(argv=None):
    args = reference_arguments("saliency_reference", __doc__.strip().splitlines()[0], argv)
    outdir = args.outdir.resolve()
    saldir = outdir / "saliency"
    saldir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    entries = []
    with tempfile.TemporaryDirectory(prefix="saliency_reference_") as tmp:
        for spec in CASES:
            entries += run_case(spec, args.shared, args.binary.resolve(), Path(tmp), saldir)
    out = outdir / "saliency_cases.json"
    out.write_text(json.dumps({"cases": entries}, indent=1) + "\n")
    print(f"{len(entries)} references → {out} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
