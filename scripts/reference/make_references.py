#!/usr/bin/env python3
"""Generate independent reference data for the cnn-viz Swift tests.

Usage: python3 scripts/reference/make_references.py OUTDIR

Writes OUTDIR/cases.json = {"cases": [...]}. Each case is
  {"name", "model": abs .onnx path, "inputs": {input: abs .npy},
   "expected": {output: abs .npy (float32)}, "source": "onnxruntime" |
   "onnx-light-expected", "top1": int | null, "replace": null |
   {"tensor": NAME, "with": "zeros"}}

Cases:
  a) the real models in <shared>/data/models on real photos (onnxruntime);
  b) the nine "light" models shipped inside the onnx package, with the
     expected outputs stored next to them (onnx backend-test inputs), or,
     where that output is a softmax of logits beyond 1e3 (ill-conditioned in
     float32), onnxruntime's logits instead;
  c) a hook case: squeezenet fp32 with one intermediate tensor replaced by
     zeros, computed by onnxruntime on a model cut at that tensor.

The shared data directory is <repo root>/../shared, or $CNNVIZ_SHARED.
Nothing from it is copied into the repository; only OUTDIR is written.
Everything here is deterministic (fixed inputs, single-threaded ORT).
"""

import json
import os
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper, shape_inference
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]  # scripts/reference/ -> repo
SHARED = Path(os.environ.get("CNNVIZ_SHARED", REPO_ROOT.parent / "shared"))
DATA = SHARED / "data"

SQUEEZE_FP32 = "squeezenet1.1_fp32_from_winml_fp16.onnx"
SQUEEZE_FP16 = "winml_squeezenet1.1_fp16.onnx"
SQUEEZE_OUT, SQUEEZE_LOGITS = "softmaxout_1", "pool10_1"
# Photo -> expected ImageNet top-1 (see SOURCES.md).
SQUEEZE_IMAGES = {"skimage_chelsea.png": 285, "skimage_coffee.png": 967,
                  "winml_dog.jpg": 207}
MNIST_MODELS = ["winml_mnist.onnx", "wonnx_opt-mnist.onnx"]
MNIST_IMAGES = {"winml_mnist_28.png": 8, "wonnx_mnist_digit_0.jpg": 0,
                "wonnx_mnist_digit_3.jpg": 3, "wonnx_mnist_digit_5.jpg": 5,
                "wonnx_mnist_digit_7.jpg": 7}
HOOK_TENSOR = "fire6/concat_1"
HOOK_IMAGE = "skimage_chelsea.png"


# ---------------------------------------------------------------- helpers

def session(model):
    """A single-threaded CPU session (reproducible reduction order)."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # hide "unused initializer" warnings
    src = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    return ort.InferenceSession(src, opts, providers=["CPUExecutionProvider"])


def with_extra_outputs(model, names):
    """Copy of `model` that also exposes the intermediate tensors `names`."""
    inferred = shape_inference.infer_shapes(model)
    infos = {vi.name: vi for vi in inferred.graph.value_info}
    out = onnx.ModelProto()
    out.CopyFrom(model)
    present = {o.name for o in model.graph.output}
    for name in (n for n in names if n not in present):
        if name not in infos:
            raise KeyError(f"no type information for tensor {name!r}")
        out.graph.output.append(infos[name])
    return out


def node_outputs(model):
    return {o for n in model.graph.node for o in n.output}


class Writer:
    """Saves .npy files under OUTDIR and collects the cases."""

    def __init__(self, outdir):
        self.outdir = outdir
        self.cases = []

    def npy(self, stem, array):
        path = self.outdir / "npy" / (stem.replace("/", "_") + ".npy")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, array)
        return str(path)

    def add(self, name, model, inputs, expected, source, top1=None, replace=None):
        case = {
            "name": name,
            "model": str(Path(model).resolve()),
            "inputs": {k: self.npy(f"{name}.in.{k}", v) for k, v in inputs.items()},
            "expected": {k: self.npy(f"{name}.out.{k}", np.asarray(v, np.float32))
                         for k, v in expected.items()},
            "source": source,
            "top1": top1,
            "replace": replace,
        }
        self.cases.append(case)
        return case


# ---------------------------------------------------------- preprocessing

def caffe_image(path):
    """Caffe-style SqueezeNet input: short side 256 (bilinear), centre crop
    224, BGR, 0-255 minus mean (B,G,R)=(104,117,123), NCHW float32."""
    img = Image.open(path).convert("RGB")
    w, h = img.size
    scale = 256 / min(w, h)
    w, h = max(256, round(w * scale)), max(256, round(h * scale))
    img = img.resize((w, h), Image.BILINEAR)
    left, top = (w - 224) // 2, (h - 224) // 2
    img = img.crop((left, top, left + 224, top + 224))
    rgb = np.asarray(img, dtype=np.float32)              # HWC, RGB
    bgr = rgb[:, :, ::-1] - np.array([104, 117, 123], np.float32)
    return np.ascontiguousarray(bgr.transpose(2, 0, 1)[None])  # [1,3,224,224]


def mnist_image(path):
    """MNIST input: grey, 28x28, float 0-255, white digit on black, [1,1,28,28].

    The shared images are already white-on-black (dark border), so they are
    used as is; an image with a light border would be inverted here.
    """
    a = np.asarray(Image.open(path).convert("L").resize((28, 28), Image.BILINEAR),
                   dtype=np.float32)
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    if border.mean() > 127:                       # black-on-white: invert
        print(f"  note: {path.name} is black-on-white, inverting")
        a = 255.0 - a
    return a[None, None]


def check_top1(label, got, want):
    mark = "ok" if got == want else "MISMATCH"
    if got != want:
        print(f"  WARNING: {label}: onnxruntime top-1 {got}, expected {want}")
    return mark


# ------------------------------------------------------------------ cases

def squeezenet_cases(w, summary):
    """The fp16 model is compared in float32, as cnn-viz computes it: its expected values
    come from onnxruntime running the losslessly widened fp32 file on the same
    fp16-rounded input (onnxruntime's own fp16 kernels round every layer to half
    precision, which drifts by ~4e-4 relative). The fp16 run still gives top1."""
    sessions = {}
    for fname, dtype in [(SQUEEZE_FP32, np.float32), (SQUEEZE_FP16, np.float16)]:
        path = DATA / "models" / fname
        model = onnx.load(path)
        # Copy with the logits exposed too; the case still names the original.
        extra = with_extra_outputs(model, [SQUEEZE_LOGITS])
        onnx.save(extra, w.outdir / "models" / fname.replace(".onnx", "+pool10_1.onnx"))
        sess = sessions[fname] = session(extra)
        in_name = sess.get_inputs()[0].name
        for img, want in SQUEEZE_IMAGES.items():
            x = caffe_image(DATA / "images" / img).astype(dtype)
            native_prob = sess.run([SQUEEZE_OUT], {in_name: x})[0]
            reference = sessions[SQUEEZE_FP32]
            prob, logits = reference.run([SQUEEZE_OUT, SQUEEZE_LOGITS], {in_name: x.astype(np.float32)})
            top1 = int(np.argmax(native_prob))
            assert top1 == int(np.argmax(prob)), "fp16 and widened fp32 runs disagree on top-1"
            name = f"{Path(fname).stem}/{Path(img).stem}"
            w.add(name, path, {in_name: x},
                  {SQUEEZE_OUT: prob, SQUEEZE_LOGITS: logits}, "onnxruntime", top1)
            summary.append((name, "onnxruntime", f"{top1} (want {want})",
                            check_top1(name, top1, want),
                            f"{SQUEEZE_OUT}{list(prob.shape)} {prob.dtype}, "
                            f"{SQUEEZE_LOGITS}{list(logits.shape)}"))


def mnist_cases(w, summary):
    for fname in MNIST_MODELS:
        path = DATA / "models" / fname
        sess = session(path)
        in_name, out_name = sess.get_inputs()[0].name, sess.get_outputs()[0].name
        for img, want in MNIST_IMAGES.items():
            x = mnist_image(DATA / "images" / img)
            (y,) = sess.run([out_name], {in_name: x})
            top1 = int(np.argmax(y))
            name = f"{Path(fname).stem}/{Path(img).stem}"
            w.add(name, path, {in_name: x}, {out_name: y}, "onnxruntime", top1)
            summary.append((name, "onnxruntime", f"{top1} (want {want})",
                            check_top1(name, top1, want),
                            f"{out_name}{list(y.shape)}"))


def dummy_data(value_info, model_name):
    """Inputs exactly as onnx's backend test runner makes them for 'light'
    models: Runner.generate_dummy_data(x, seed=0, name=..., random=False)."""
    try:
        from onnx.backend.test.runner import Runner
        return Runner.generate_dummy_data(value_info, seed=0, name=model_name,
                                          random=False)
    except (ImportError, AttributeError):
        # Faithful copy of that code (non-random branch): unknown dims are 1,
        # values are arange(n)/n computed in float64, then cast to float32.
        shape = tuple(d.dim_value if d.HasField("dim_value") else 1
                      for d in value_info.type.tensor_type.shape.dim)
        n = np.prod(shape)
        return (np.arange(n).reshape(shape) / n).astype(np.float32)


# A softmax compared at the test's relative bound (1e-4) is meaningful only while one
# float32 rounding of its largest input, |z|·2^-23, moves no probability by more than that:
# p_i changes by a factor exp(Δz). Above this |z| the softmax of two correct float32
# implementations may differ completely (light_squeezenet: |z| = 9.5e9, an ulp is 1024).
SOFTMAX_CONDITION_LIMIT = 1e-4 * 2**23


def light_cases(w, summary):
    # These models' weights are all ConstantOfShape(0.02), so every class gets
    # the same score: 8 of 9 outputs are a uniform softmax (0.001 each) and
    # densenet121's fc6_1 is one repeated value. They test op coverage and the
    # overall numeric chain, not class discrimination.
    #
    # Six of the eight softmaxes take logits between 9.5e9 and 3.7e31, where the
    # softmax is ill-conditioned (SOFTMAX_CONDITION_LIMIT): a few ulps of difference
    # between channels, from any accumulation order, make it one-hot instead of
    # uniform. For those the case compares the logits (the softmax's input) with
    # onnxruntime's on the same inputs instead; the softmax op itself is covered by
    # the ONNX node tests.
    light = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
    for path in sorted(light.glob("light_*.onnx")):
        model = onnx.load(path)
        inits = {i.name for i in model.graph.initializer}
        inputs = {x.name: dummy_data(x, path.stem)
                  for x in model.graph.input if x.name not in inits}
        out_name = model.graph.output[0].name
        pb = path.with_name(path.stem + "_output_0.pb")
        expected = numpy_helper.to_array(onnx.load_tensor(str(pb)))
        producer = next(n for n in model.graph.node if out_name in n.output)
        logits_name = producer.input[0] if producer.op_type == "Softmax" else None
        exposed = with_extra_outputs(model, [logits_name]) if logits_name else model
        got, *logits = session(exposed).run([out_name] + ([logits_name] if logits_name else []), inputs)
        diff = float(np.max(np.abs(got - expected)))
        if logits and float(np.max(np.abs(logits[0]))) > SOFTMAX_CONDITION_LIMIT:
            w.add(path.stem, path, inputs, {logits_name: logits[0]}, "onnxruntime (logits before an ill-conditioned softmax)")
            compared = f"{logits_name}{list(logits[0].shape)} (max|z| {float(np.max(np.abs(logits[0]))):.2g})"
        else:
            w.add(path.stem, path, inputs, {out_name: expected}, "onnx-light-expected")
            compared = f"{out_name}{list(expected.shape)}"
        # Sanity check only: onnxruntime's output against the onnx package's.
        summary.append((path.stem, "onnx-light-expected", "-", f"ort max|diff| {diff:.2e}", compared))


def cut_model(src, dst, tensor, outputs):
    """Save the part of `src` between `tensor` (now a graph input) and
    `outputs`, using onnx.utils.extract_model."""
    onnx.utils.extract_model(str(src), str(dst), [tensor], outputs, check_model=False)
    cut = onnx.load(dst)
    if cut.ir_version < 4:
        # IR < 4 requires every initializer to be a graph input too, which
        # extract_model does not do; add them so the checker accepts it.
        have = {i.name for i in cut.graph.input}
        for init in cut.graph.initializer:
            if init.name not in have:
                cut.graph.input.append(onnx.helper.make_tensor_value_info(
                    init.name, init.data_type, list(init.dims)))
    onnx.checker.check_model(cut)
    onnx.save(cut, dst)


def hook_case(w, summary):
    path = DATA / "models" / SQUEEZE_FP32
    model = onnx.load(path)
    if HOOK_TENSOR not in node_outputs(model):
        raise KeyError(f"{HOOK_TENSOR!r} is not a node output of {path.name}")
    outs = [SQUEEZE_OUT, SQUEEZE_LOGITS]

    # Full model, with the hooked tensor exposed to learn its shape.
    sess = session(with_extra_outputs(model, [HOOK_TENSOR] + outs))
    in_name = sess.get_inputs()[0].name
    x = caffe_image(DATA / "images" / HOOK_IMAGE)
    hooked, prob_full, _ = sess.run([HOOK_TENSOR] + outs, {in_name: x})

    # Model cut at the tensor, which becomes a graph input; feed zeros.
    # (So the expected output no longer depends on the image at all.)
    cut_path = w.outdir / "models" / "squeezenet1.1_fp32_cut_fire6.onnx"
    cut_model(path, cut_path, HOOK_TENSOR, outs)
    prob, logits = session(cut_path).run(outs, {HOOK_TENSOR: np.zeros_like(hooked)})
    top_full, top_cut = int(np.argmax(prob_full)), int(np.argmax(prob))
    name = f"hook/{Path(SQUEEZE_FP32).stem}/{Path(HOOK_IMAGE).stem}/{HOOK_TENSOR}=0"
    w.add(name, path, {in_name: x}, {SQUEEZE_OUT: prob, SQUEEZE_LOGITS: logits},
          "onnxruntime", top_cut, {"tensor": HOOK_TENSOR, "with": "zeros"})
    change = float(np.max(np.abs(prob - prob_full)))
    print(f"hook: {HOOK_TENSOR} shape {list(hooked.shape)}; top-1 uncut {top_full}, "
          f"zeroed {top_cut}; max|prob change| {change:.3g}")
    if top_full == top_cut or change < 1e-3:
        print("  WARNING: zeroing the hooked tensor barely changes the output")
    summary.append((name, "onnxruntime", f"{top_cut} (uncut {top_full})",
                    "differs" if top_cut != top_full else "SAME",
                    f"replaces {HOOK_TENSOR}{list(hooked.shape)}"))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[2])
    if not DATA.is_dir():
        sys.exit(f"shared data not found at {DATA} (set CNNVIZ_SHARED)")
    outdir = Path(sys.argv[1]).resolve()
    (outdir / "models").mkdir(parents=True, exist_ok=True)
    w, summary = Writer(outdir), []
    squeezenet_cases(w, summary)
    mnist_cases(w, summary)
    light_cases(w, summary)
    hook_case(w, summary)
    (outdir / "cases.json").write_text(json.dumps({"cases": w.cases}, indent=1) + "\n")

    cols = ("case", "source", "top-1", "check", "outputs")
    widths = [max(len(str(r[i])) for r in summary + [cols]) for i in range(len(cols))]
    print()
    for row in [cols] + summary:
        print("  ".join(str(v).ljust(n) for v, n in zip(row, widths)).rstrip())
    print(f"\n{len(w.cases)} cases -> {outdir / 'cases.json'}")


if __name__ == "__main__":
    main()
