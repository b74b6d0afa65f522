#!/usr/bin/env python3
"""Reference CAM maps, computed as pytorch-grad-cam 1.5.7 computes them, in NumPy float64.

Usage: python3 scripts/reference/cam_reference.py OUTDIR --cnn-viz PATH_TO_BINARY [--shared DIR]

Nothing here imports torch or pytorch-grad-cam: every formula below was re-derived from
pytorch-grad-cam's source (base_cam.py, the method files, utils/image.py,
utils/svd_on_activations.py, ablation_layer.py) and DESIGN.md, and is written in NumPy.

Inputs. A = activations of the target layer (C, h, w) and g = d logit[class] / dA, both
float32 from `cnn-viz run --output LAYER --backward LOGITS:CLASS --wrt LAYER` (the gradient
is checked separately against finite differences; A is checked here against onnxruntime).
The target is the pre-softmax logit: `pool10_1` for SqueezeNet, the graph output for MNIST.
All arithmetic below is float64; maps are saved as float32.

Per-layer maps, before post-processing (Σ_c is a sum over channels, Σ_hw over positions):
  gradcam              w_c = mean_hw g;                                   cam = Σ_c w_c A_c
  hirescam             cam = Σ_c g ⊙ A
  gradcam-elementwise  cam = Σ_c ReLU(g ⊙ A)
  gradcam++            α = g² / (2g² + (Σ_hw A)·g³ + 1e-6), α = 0 where g = 0;
                       w_c = Σ_hw ReLU(g)·α;                              cam = Σ_c w_c A_c
  xgradcam             w_c = Σ_hw g·A / (Σ_hw A + 1e-7);                  cam = Σ_c w_c A_c
  layercam             cam = Σ_c ReLU(g) ⊙ A
  eigencam             cam = P(A)       (P: first principal component, below)
  eigengradcam         cam = P(g ⊙ A)
  scorecam             m_k = U(A_k) normalised (m − min)/(max − min + 1e-8), U = bilinear
                       align_corners=True to the input H×W; s_k = logit(model(x ⊙ m_k));
                       w = softmax_k(s);                                  cam = Σ_c w_c A_c
  ablationcam          y_k = logit with channel k of A set to v (below), y = logit of A
                       itself; w_k = (y − y_k)/y;                         cam = Σ_c w_c A_c
  P(M): NaN → 0; X = M as an (h·w × C) matrix; subtract each column's mean; v = first
  right-singular vector of X; p = X v reshaped to h×w; p → −p when |min p| > |max p|.

Post-processing, for each layer then across layers (base_cam.py, scale_cam_image):
  1. ReLU.
  2. Min-max: x ← x − min(x); x ← x / (1e-7 + max(x)).
  3. Resize to the input's H×W as cv2.resize(INTER_LINEAR): source coordinate
     s = (d + 0.5)·in/out − 0.5, taps floor(s) and floor(s)+1 with weights 1−f, f, both
     clamped to [0, in−1] (the edge pixel repeats). A same-size resize is the identity.
  4. Aggregate, even for one layer: ReLU, mean over layers, min-max as in 2 (no resize).

Smoothing (eigen-smooth for gradcam and layercam, aug-smooth for gradcam):
  eigen-smooth  Σ_c is replaced by P(·) of what it would sum: P(w ⊙ A) for gradcam,
                P(ReLU(g) ⊙ A) for layercam.
  aug-smooth    the model input tensor (after preprocessing) times f ∈ {0.9, 1, 1.1}
                (float32 multiply) and horizontally flipped or not (6 inputs); each gets its
                own A, g and full map (steps 1–4), flipped maps are flipped back, and the 6
                maps are averaged (no renormalisation: the max may be below 1). The class is
                fixed.

Conventions chosen (the Swift side must do the same):
  - GradCAM++: pytorch-grad-cam 1.5.7's eps = 1e-6 is added to every denominator
    (DESIGN.md says 1e-7 only where the denominator is 0). Its third term is
    (Σ_hw A_c)·g³ at each position, as in the paper's Eq. 19. No exp(score) factor.
  - XGradCAM: eps = 1e-7 is added to every Σ_hw A.
  - EigenCAM, EigenGradCAM: pytorch-grad-cam leaves the SVD's sign; cnn-viz flips the
    projection when |min| > |max| (DESIGN.md, Seg-Eigen-CAM Eq. 13); a tie keeps it.
  - Eigen-smooth: the same P with the same flip. pytorch-grad-cam has no flip here, but the
    SVD sign is LAPACK's choice, so without it there is no reproducible reference.
  - ScoreCAM: the masks multiply the preprocessed tensor (as pytorch-grad-cam does); the
    score is the pre-softmax logit, from onnxruntime in batches of 32 (MNIST: 1, its graph
    reshapes to a fixed [1, 256]); the softmax is over channels, without ReLU.
  - AblationCAM: v = 0 when min(A) == 0 exactly, else min(A) − 1e7 (DESIGN.md). In
    pytorch-grad-cam the in-place loop over a batch lowers the value by a further 1e7 for
    each item of a batch of 32. That only matters when min(A) ≠ 0 and no ReLU follows: the
    ReLU outputs here have min(A) = 0, and Plus112_Output_0 (min −3629) feeds a ReLU, so any
    v ≤ 0 gives the same y_k (the value used is in cam_cases.json). y comes from
    the same layer-to-logits sub-model as the y_k (onnxruntime), so an irrelevant channel
    gets w_k = 0 exactly. A negative y flips the weights, as in pytorch-grad-cam.
  - Min-max divides by 1e-7 + (max − min): a map that ReLU zeroed stays 0.

Cases: SqueezeNet 1.1 fp32 on gradcam_both.png (else skimage_chelsea.png), Caffe
preprocessing, layer fire9/concat_1, classes top-1, 243 and 281; the ONNX-zoo MNIST CNN on
winml_mnist_28.png, layers ReLU32_Output_0 (28×28), ReLU114_Output_0 (14×14), both
together, and Plus112_Output_0 (14×14, before ReLU114: A < 0, so AblationCAM uses
min(A) − 1e7, and for class 8 its map is all zeros after ReLU), classes top-1 and top-2.
Blind spots: layercam = gradcam-elementwise in every case (g = 0 wherever A < 0 in these
ReLU nets), and hirescam = gradcam on SqueezeNet up to rounding (its head is 1×1 conv10 →
ReLU → global average pool, so g_c = W_kc·[conv10_k > 0]/169 and after ReLU both maps are
multiples of conv10_k − b_k, except where b_k < conv10_k ≤ 0: nowhere here); MNIST separates
hirescam from gradcam.

Writes
  OUTDIR/cam/<case>_input.npy                       float32 NCHW, the exact model input
  OUTDIR/cam/<case>_<class>_<method>[_<smoothing>-smooth].npy   float32 [H, W]
  OUTDIR/cam_cases.json  {"cases": [{"name", "model", "image", "preprocess", "input",
     "input_name", "logits", "layers", "class", "label", "score", "method", "aug_smooth",
     "eigen_smooth", "reference", "shape": [H, W], "ablation_value" (ablationcam only)}]}
A missing model or image skips its group with a note on stderr.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Single-threaded BLAS and onnxruntime: reproducible, and faster on 2 busy cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnx.utils  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import helper, shape_inference  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decode_images import decode  # noqa: E402  (Pillow decoding, as cnn-viz decodes)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHARED = Path(os.environ.get("CNNVIZ_SHARED", REPO_ROOT.parent / "shared"))

MINMAX_EPS = 1e-7        # scale_cam_image
GRADCAM_PP_EPS = 1e-6    # grad_cam_plusplus.py
XGRADCAM_EPS = 1e-7      # xgrad_cam.py
SCORECAM_EPS = 1e-8      # score_cam.py
ABLATION_OFFSET = 1e7    # ablation_layer.py
AUGMENTATIONS = [(flip, factor) for flip in (False, True) for factor in (0.9, 1.0, 1.1)]

GROUPS = [
    dict(key="squeezenet-both", model="squeezenet1.1_fp32_from_winml_fp16.onnx",
         images=["gradcam_both.png", "skimage_chelsea.png"], preprocess="caffe",
         logits="pool10_1", layer_sets={"fire9": ["fire9/concat_1"]},
         classes=[243, 281], top=1, batch=32, labels="imagenet_synset.txt"),
    # The MNIST graph reshapes to a fixed [1, 256], so it runs one input at a time.
    dict(key="mnist-8", model="winml_mnist.onnx", images=["winml_mnist_28.png"],
         preprocess="mnist", logits="Plus214_Output_0",
         layer_sets={"relu32": ["ReLU32_Output_0"], "relu114": ["ReLU114_Output_0"],
                     "relu32-relu114": ["ReLU32_Output_0", "ReLU114_Output_0"],
                     "plus112": ["Plus112_Output_0"]},
         classes=[], top=2, batch=1, labels=None),
]


# ------------------------------------------------------------------ preprocessing

def caffe_tensor(rgb):
    """Short side 256 (Pillow bilinear, long side rounded half to even), centre crop 224
    (offset rounded half to even), BGR, 0–255 minus (104, 117, 123); [1, 3, 224, 224]."""
    image = Image.fromarray(rgb)
    w, h = image.size
    short, long = min(w, h), max(w, h)
    scaled = round(256 * long / short)
    size = (256, scaled) if w <= h else (scaled, 256)
    image = image.resize(size, Image.BILINEAR)
    left, top = round((size[0] - 224) / 2), round((size[1] - 224) / 2)
    image = image.crop((left, top, left + 224, top + 224))
    bgr = np.asarray(image, np.float32)[:, :, ::-1] - np.array([104, 117, 123], np.float32)
    return np.ascontiguousarray(bgr.transpose(2, 0, 1)[None])


def mnist_tensor(rgb):
    """Pillow convert("L"), bilinear to 28×28, 0–255; [1, 1, 28, 28]."""
    gray = Image.fromarray(rgb).convert("L").resize((28, 28), Image.BILINEAR)
    return np.asarray(gray, np.float32)[None, None].copy()


PREPROCESS = {"caffe": caffe_tensor, "mnist": mnist_tensor}


# ------------------------------------------------------------------ resampling

def linear_taps(size_in, size_out):
    """cv2 INTER_LINEAR as a (out × in) matrix: s = (d + 0.5)·in/out − 0.5, edge-clamped."""
    matrix = np.zeros((size_out, size_in))
    for d in range(size_out):
        s = (d + 0.5) * size_in / size_out - 0.5
        i = int(np.floor(s))
        f = s - i
        if i < 0:
            i, f = 0, 0.0
        if i >= size_in - 1:
            i, f = size_in - 1, 0.0
        matrix[d, i] += 1 - f
        matrix[d, min(i + 1, size_in - 1)] += f
    return matrix


def corner_taps(size_in, size_out):
    """Bilinear align_corners=True as a (out × in) matrix: s = d·(in − 1)/(out − 1)."""
    matrix = np.zeros((size_out, size_in))
    for d in range(size_out):
        s = d * (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
        i = min(int(np.floor(s)), max(size_in - 2, 0))
        f = s - i
        matrix[d, i] += 1 - f
        if f:
            matrix[d, i + 1] += f
    return matrix


def resized(maps, height, width, taps):
    """maps (..., h, w) → (..., height, width) through separable tap matrices."""
    rows = taps(maps.shape[-2], height).astype(maps.dtype)
    cols = taps(maps.shape[-1], width).astype(maps.dtype)
    return np.einsum("yh,...hw,xw->...yx", rows, maps, cols)


# ------------------------------------------------------------------ post-processing

def relu(x):
    """max(x, 0)."""
    return np.maximum(x, 0)


def min_max(x):
    """(x − min) / (1e-7 + max(x − min))."""
    x = x - x.min()
    return x / (MINMAX_EPS + x.max())


def layer_map(cam, height, width):
    """Steps 1–3: resize(min_max(ReLU(cam))) to the input H×W (cv2 INTER_LINEAR)."""
    return resized(min_max(relu(cam)), height, width, linear_taps)


def aggregated(layer_maps):
    """Step 4: min_max(mean over layers of ReLU(map))."""
    return min_max(relu(np.stack(layer_maps)).mean(axis=0))


def principal_projection(m):
    """P(M) = (X − column means)·v₁ on X = M as (h·w × C), sign flipped if |min| > |max|."""
    c, h, w = m.shape
    x = np.nan_to_num(m, nan=0.0).reshape(c, h * w).T
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    p = (x @ vt[0]).reshape(h, w)
    return -p if abs(p.min()) > abs(p.max()) else p


def weighted_sum(weights, a):
    """Σ_c w_c A_c."""
    return np.tensordot(weights, a, axes=1)


# ------------------------------------------------------------------ methods (A, g: C×h×w)

def gradcam_weights(a, g):
    """w_c = mean_hw g."""
    return g.mean(axis=(1, 2))


def gradcam_pp_weights(a, g):
    """w_c = Σ_hw ReLU(g)·α, α = g²/(2g² + (Σ_hw A)·g³ + 1e-6), α = 0 where g = 0."""
    g2 = g * g
    alpha = g2 / (2 * g2 + a.sum(axis=(1, 2), keepdims=True) * g2 * g + GRADCAM_PP_EPS)
    alpha = np.where(g != 0, alpha, 0.0)
    return (relu(g) * alpha).sum(axis=(1, 2))


def xgradcam_weights(a, g):
    """w_c = Σ_hw g·A / (Σ_hw A + 1e-7)."""
    return (g * a / (a.sum(axis=(1, 2), keepdims=True) + XGRADCAM_EPS)).sum(axis=(1, 2))


def gradcam(a, g):
    """Σ_c mean_hw(g)_c A_c."""
    return weighted_sum(gradcam_weights(a, g), a)


def hirescam(a, g):
    """Σ_c g ⊙ A."""
    return (g * a).sum(axis=0)


def gradcam_elementwise(a, g):
    """Σ_c ReLU(g ⊙ A)."""
    return relu(g * a).sum(axis=0)


def gradcam_pp(a, g):
    """Σ_c w_c A_c with the GradCAM++ weights."""
    return weighted_sum(gradcam_pp_weights(a, g), a)


def xgradcam(a, g):
    """Σ_c w_c A_c with the XGradCAM weights."""
    return weighted_sum(xgradcam_weights(a, g), a)


def layercam(a, g):
    """Σ_c ReLU(g) ⊙ A."""
    return (relu(g) * a).sum(axis=0)


def eigencam(a, g):
    """P(A)."""
    return principal_projection(a)


def eigengradcam(a, g):
    """P(g ⊙ A)."""
    return principal_projection(g * a)


def gradcam_eigen_smooth(a, g):
    """P(w ⊙ A) with the GradCAM weights."""
    return principal_projection(gradcam_weights(a, g)[:, None, None] * a)


def layercam_eigen_smooth(a, g):
    """P(ReLU(g) ⊙ A)."""
    return principal_projection(relu(g) * a)


def scorecam_weights(scores):
    """w = softmax over channels of s_k."""
    e = np.exp(scores - scores.max())
    return e / e.sum()


def ablation_weights(y, ablated):
    """w_k = (y − y_k)/y."""
    return (y - ablated) / y


def scorecam_masks(a, height, width):
    """m_k = (U(A_k) − min)/(max − min + 1e-8), U = bilinear align_corners=True."""
    up = resized(a, height, width, corner_taps)
    low = up.min(axis=(1, 2), keepdims=True)
    high = up.max(axis=(1, 2), keepdims=True)
    return (up - low) / (high - low + SCORECAM_EPS)


def ablation_value(a):
    """0 when min(A) == 0, else min(A) − 1e7."""
    low = float(a.min())
    return 0.0 if low == 0 else low - ABLATION_OFFSET


GRADIENT_METHODS = {"gradcam": gradcam, "hirescam": hirescam,
                    "gradcam-elementwise": gradcam_elementwise, "gradcam++": gradcam_pp,
                    "xgradcam": xgradcam, "layercam": layercam, "eigencam": eigencam,
                    "eigengradcam": eigengradcam}
EIGEN_SMOOTH = {"gradcam": gradcam_eigen_smooth, "layercam": layercam_eigen_smooth}


# ------------------------------------------------------------------ models

def session(model):
    """Single-threaded CPU onnxruntime session."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def batched(model, outputs):
    """Copy of `model` with a symbolic batch dimension, exposing `outputs`."""
    model = shape_inference.infer_shapes(model)
    types = {vi.name: vi.type.tensor_type.elem_type
             for vi in list(model.graph.value_info) + list(model.graph.output) + list(model.graph.input)}
    initializers = {i.name for i in model.graph.initializer}
    del model.graph.value_info[:]
    for vi in model.graph.input:
        if vi.name not in initializers:
            vi.type.tensor_type.shape.dim[0].dim_param = "N"
    del model.graph.output[:]
    for name in outputs:
        model.graph.output.append(helper.make_tensor_value_info(name, types[name], None))
    return model


def logits_of(sess, name, inputs, count, batch):
    """The flattened logits [count, classes] of inputs(i, j) (items i..<j), `batch` at a time."""
    feed = sess.get_inputs()[0].name
    rows = [sess.run([name], {feed: inputs(i, min(i + batch, count)).astype(np.float32)})[0]
            for i in range(0, count, batch)]
    out = np.concatenate(rows)
    return out.reshape(count, -1).astype(np.float64)


def cnn_viz_run(binary, model, tensor, layers, logits, cls, workdir):
    """A, g per layer (float64, C×h×w) and the logits, from `cnn-viz run`."""
    command = [str(binary), "run", "--model", str(model), "--tensor", str(tensor)]
    for name in layers + [logits]:
        command += ["--output", name]
    command += ["--backward", f"{logits}:{cls}"]
    for name in layers:
        command += ["--wrt", name]
    command += ["--out", str(workdir), "--json"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"cam_reference: {' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    manifest = json.loads(done.stdout)
    a = {n: np.load(manifest["outputs"][n])[0].astype(np.float64) for n in layers}
    g = {n: np.load(manifest["gradients"][n])[0].astype(np.float64) for n in layers}
    return a, g, np.load(manifest["outputs"][logits]).reshape(-1).astype(np.float64)


# ------------------------------------------------------------------ FullGrad

def biased_layers(model):
    """(output tensor, per-channel bias) of every Conv with a bias and every BatchNormalization,
    whose bias is B − mean·scale/√(var + ε) (pytorch-grad-cam's FullGrad.get_bias_data)."""
    inits = {t.name: onnx.numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    layers = []
    for node in model.graph.node:
        if node.op_type == "Conv" and len(node.input) > 2 and node.input[2] in inits:
            layers.append((node.output[0], inits[node.input[2]]))
        elif node.op_type == "BatchNormalization":
            scale, bias, mean, var = (inits[n] for n in node.input[1:5])
            eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
            layers.append((node.output[0], bias - mean * scale / np.sqrt(var + eps)))
    return layers


def fullgrad(binary, model_path, model, x, x_path, logits, cls, workdir):
    """min_max(Σ_c min_max(|x ⊙ ∇x|)_c + Σ_layers Σ_c resize(min_max(|bias_c · g_c|))), with every
    min-max per (image, channel) plane as pytorch-grad-cam's scale_accross_batch_and_channels."""
    layers = biased_layers(model)
    command = [str(binary), "run", "--model", str(model_path), "--tensor", str(x_path),
               "--backward", f"{logits}:{cls}", "--wrt", "input"]
    for name, _ in layers:
        command += ["--wrt", name]
    command += ["--out", str(workdir), "--json"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"cam_reference: {' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    grads = json.loads(done.stdout)["gradients"]
    height, width = x.shape[-2:]
    total = np.zeros((height, width))
    def planes_min_max(t):
        t = t - t.min(axis=(1, 2), keepdims=True)
        return t / (MINMAX_EPS + t.max(axis=(1, 2), keepdims=True))
    total += planes_min_max(np.abs(x[0].astype(np.float64) * np.load(grads["input"])[0].astype(np.float64))).sum(axis=0)
    for name, bias in layers:
        g = np.load(grads[name])[0].astype(np.float64)
        # The resize is linear, so resizing the channel sum equals summing the resized channels.
        total += resized(planes_min_max(np.abs(bias[:, None, None] * g)).sum(axis=0), height, width, linear_taps)
    return min_max(total)


# ------------------------------------------------------------------ one group

class Group:
    """One model on one image: its classes, A and g per class, and the perturbation scores."""

    def __init__(self, spec, shared, binary, workdir):
        self.spec, self.binary, self.workdir = spec, binary, workdir
        data = shared / "data"
        self.model_path = (data / "models" / spec["model"]).resolve()
        image = next((data / "images" / n for n in spec["images"] if (data / "images" / n).is_file()), None)
        if not self.model_path.is_file() or image is None:
            raise FileNotFoundError(f"{self.model_path} or one of {spec['images']}")
        self.image = image.resolve()
        self.x = PREPROCESS[spec["preprocess"]](decode(self.image)[0])
        self.height, self.width = self.x.shape[2:]
        self.model = onnx.load(self.model_path)
        initializers = {i.name for i in self.model.graph.initializer}
        self.input_name = next(i.name for i in self.model.graph.input if i.name not in initializers)
        self.layers = sorted({n for layers in spec["layer_sets"].values() for n in layers})
        self.labels = None
        if spec["labels"] and (data / "labels" / spec["labels"]).is_file():
            self.labels = (data / "labels" / spec["labels"]).read_text().splitlines()

    def label(self, cls):
        """The class name from the labels file, else the index."""
        return self.labels[cls].split(" ", 1)[1].split(",")[0] if self.labels else str(cls)

    def reference_forward(self):
        """onnxruntime's A and logits for x: picks the classes and checks cnn-viz's A."""
        full = session(batched(self.model, self.layers + [self.spec["logits"]]))
        values = full.run(None, {self.input_name: self.x})
        self.ort_layers = {n: v[0].astype(np.float64) for n, v in zip(self.layers, values)}
        self.ort_logits = values[-1].reshape(-1).astype(np.float64)
        ranked = [int(c) for c in np.argsort(-self.ort_logits)]
        self.classes = list(dict.fromkeys(ranked[:self.spec["top"]] + self.spec["classes"]))
        self.top1 = ranked[0]

    def gradients(self):
        """A, g and logits per class from cnn-viz, on x and on the 6 aug-smooth inputs."""
        self.a, self.g, self.scores = {}, {}, {}
        self.aug = {}
        x_path = self.workdir / f"{self.spec['key']}_x.npy"
        np.save(x_path, self.x)
        for cls in self.classes:
            self.a[cls], self.g[cls], logits = cnn_viz_run(
                self.binary, self.model_path, x_path, self.layers, self.spec["logits"], cls,
                self.workdir / f"{self.spec['key']}_{cls}")
            self.scores[cls] = float(logits[cls])
            self.logit_gap = float(np.abs(logits - self.ort_logits).max())
            for name in self.layers:
                ref = self.ort_layers[name]
                error = np.abs(self.a[cls][name] - ref).max() / max(np.abs(ref).max(), 1e-30)
                if error > 1e-4:
                    sys.exit(f"cam_reference: cnn-viz's {name} differs from onnxruntime's by {error:.3g} (relative)")
            self.aug[cls] = []
            for k, (flip, factor) in enumerate(AUGMENTATIONS):
                x = self.x * np.float32(factor)
                if flip:
                    x = np.ascontiguousarray(x[..., ::-1])
                path = self.workdir / f"{self.spec['key']}_aug{k}.npy"
                np.save(path, x.astype(np.float32))
                a, g, _ = cnn_viz_run(self.binary, self.model_path, path, self.layers,
                                      self.spec["logits"], cls, self.workdir / f"{self.spec['key']}_{cls}_aug{k}")
                self.aug[cls].append((flip, a, g))

    def perturbation_scores(self):
        """Per layer: ScoreCAM logits [C, classes] and AblationCAM y, y_k [C, classes], v."""
        logits, batch = self.spec["logits"], self.spec["batch"]
        full = session(batched(self.model, [logits]))
        self.score_logits, self.ablation = {}, {}
        cls0 = self.classes[0]
        for name in self.layers:
            a = self.a[cls0][name]   # A does not depend on the class
            masks = scorecam_masks(a, self.height, self.width)

            def masked(i, j):
                return self.x.astype(np.float64) * masks[i:j, None]       # x ⊙ m_k, [j−i, C, H, W]
            self.score_logits[name] = logits_of(full, logits, masked, len(a), batch)[:, self.classes]
            cut = onnx.utils.Extractor(self.model).extract_model([name], [logits])
            sub = session(batched(cut, [logits]))
            value = ablation_value(a)

            def ablated(i, j):
                out = np.repeat(a[None], j - i, axis=0)
                out[np.arange(j - i), np.arange(i, j)] = value            # channel k ← v
                return out
            y = logits_of(sub, logits, lambda i, j: a[None], 1, 1)[0, self.classes]
            y_k = logits_of(sub, logits, ablated, len(a), batch)[:, self.classes]
            self.ablation[name] = (y, y_k, value)

    def layer_cams(self, cls, name, a, g):
        """The pre-ReLU h×w map of every method (and smoothing) for one layer."""
        j = self.classes.index(cls)
        cams = {(m, ""): f(a, g) for m, f in GRADIENT_METHODS.items()}
        cams.update({(m, "eigen"): f(a, g) for m, f in EIGEN_SMOOTH.items()})
        if name in self.score_logits:
            s = self.score_logits[name][:, j]
            y, y_k, _ = self.ablation[name]
            cams[("scorecam", "")] = weighted_sum(scorecam_weights(s), a)
            cams[("ablationcam", "")] = weighted_sum(ablation_weights(y[j], y_k[:, j]), a)
        return cams

    def final_maps(self, cls, layers):
        """{(method, smoothing): H×W map} for the layers `layers` of class `cls`."""
        per_layer = {}
        for name in layers:
            for key, cam in self.layer_cams(cls, name, self.a[cls][name], self.g[cls][name]).items():
                per_layer.setdefault(key, []).append(layer_map(cam, self.height, self.width))
        maps = {key: aggregated(v) for key, v in per_layer.items()}
        smoothed = []
        for flip, a, g in self.aug[cls]:
            cam = aggregated([layer_map(gradcam(a[n], g[n]), self.height, self.width) for n in layers])
            smoothed.append(cam[:, ::-1] if flip else cam)
        maps[("gradcam", "aug")] = np.mean(smoothed, axis=0)
        return maps


# ------------------------------------------------------------------ checks and summary

def cv2_check(group):
    """Largest |cv2.resize(float32) − linear_taps resize| over every layer's A channels."""
    try:
        import cv2
    except ImportError:
        return None
    worst = 0.0
    for name in group.layers:
        a = group.a[group.classes[0]][name]
        ours = resized(a, group.height, group.width, linear_taps)
        for c in range(len(a)):
            theirs = cv2.resize(np.float32(a[c]), (group.width, group.height))
            worst = max(worst, float(np.abs(ours[c] - theirs).max() / max(np.abs(a[c]).max(), 1e-30)))
    return worst


def scorecam_sensitivity(group, cls, layers, reference):
    """max |ScoreCAM map − the map with each score moved by up to ± the cnn-viz/onnxruntime
    logit gap| (seeded uniform noise): how closely a second backend can match ScoreCAM."""
    j = group.classes.index(cls)
    rng = np.random.default_rng(0)
    maps = []
    for n in layers:
        s = group.score_logits[n][:, j]
        s = s + rng.uniform(-group.logit_gap, group.logit_gap, size=s.shape)
        maps.append(layer_map(weighted_sum(scorecam_weights(s), group.a[cls][n]), group.height, group.width))
    return float(np.abs(aggregated(maps) - reference).max())


def float32_maps(group, cls, layers):
    """The gradient methods' maps with every step in float32, as pytorch-grad-cam runs them."""
    def as32(tree):
        return {n: v.astype(np.float32) for n, v in tree.items()}
    maps32 = {}
    a32, g32 = as32(group.a[cls]), as32(group.g[cls])
    for method, f in GRADIENT_METHODS.items():
        maps = []
        for n in layers:
            cam = relu(f(a32[n], g32[n]).astype(np.float32))
            cam = cam - cam.min()
            cam = cam / (np.float32(MINMAX_EPS) + cam.max())
            maps.append(resized(cam.astype(np.float32), group.height, group.width, linear_taps).astype(np.float32))
        final = relu(np.stack(maps)).mean(axis=0)
        final = final - final.min()
        final = (final / (np.float32(MINMAX_EPS) + final.max())).astype(np.float32)
        maps32[method] = final
    return maps32


def reference_arguments(tool, description, argv):
    """OUTDIR --cnn-viz BINARY [--shared DIR], as every script that reads cnn-viz's dumps takes them."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--cnn-viz", dest="binary", type=Path, required=True, help="the cnn-viz binary")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help=f"shared data directory (default {DEFAULT_SHARED})")
    args = parser.parse_args(argv)
    if not args.binary.is_file():
        sys.exit(f"{tool}: no cnn-viz binary at {args.binary}; build it first (swift build -c release)")
    return args


def main(argv=None):
    args = reference_arguments("cam_reference", __doc__.strip().splitlines()[0], argv)
    outdir = args.outdir.resolve()
    camdir = outdir / "cam"
    camdir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    entries = []
    with tempfile.TemporaryDirectory(prefix="cam_reference_") as tmp:
        for spec in GROUPS:
            t0 = time.perf_counter()
            try:
                group = Group(spec, args.shared, args.binary.resolve(), Path(tmp))
            except FileNotFoundError as missing:
                print(f"cam_reference: {missing} not found, skipping {spec['key']}", file=sys.stderr)
                continue
            group.reference_forward()
            t1 = time.perf_counter()
            group.gradients()
            t2 = time.perf_counter()
            group.perturbation_scores()
            t3 = time.perf_counter()
            print(f"{spec['key']}: {group.image.name} → {spec['model']}, top-1 {group.top1} "
                  f"({group.label(group.top1)}), classes {group.classes}; "
                  f"onnxruntime {t1 - t0:.1f} s, cnn-viz {t2 - t1:.1f} s "
                  f"({len(group.classes) * (1 + len(AUGMENTATIONS))} runs), scorecam+ablation {t3 - t2:.1f} s")
            print(f"  max |cnn-viz logits − onnxruntime logits| = {group.logit_gap:.3g}")
            gap = cv2_check(group)
            if gap is not None:
                print(f"  resize vs cv2.resize(float32): max relative difference {gap:.2e}")
            for name in group.layers:
                print(f"  {name}: A {list(group.a[group.classes[0]][name].shape)}, min(A) = "
                      f"{group.a[group.classes[0]][name].min():.6g}, ablation value {group.ablation[name][2]:g}")
            for tag, layers in spec["layer_sets"].items():
                case = f"{spec['key']}-{tag}"
                input_path = camdir / f"{case}_input.npy"
                np.save(input_path, group.x)
                for cls in group.classes:
                    maps = group.final_maps(cls, layers)
                    as32 = float32_maps(group, cls, layers)
                    worst = max(float(np.abs(maps[(m, "")] - as32[m]).max()) for m in as32)
                    shaky = scorecam_sensitivity(group, cls, layers, maps[("scorecam", "")])
                    print(f"  {case} class {cls} ({group.label(cls)}), logit {group.scores[cls]:.6g}; "
                          f"float32 pipeline within {worst:.1e}; scorecam moves {shaky:.1e} "
                          f"with scores ± the logit gap:")
                    for (method, smoothing), m in maps.items():
                        suffix = f"_{smoothing}-smooth" if smoothing else ""
                        path = camdir / f"{case}_{cls}_{method}{suffix}.npy"
                        np.save(path, m.astype(np.float32))
                        lower = float(m[m.shape[0] // 2:].sum() / max(m.sum(), 1e-30))
                        left = float(m[:, :m.shape[1] // 2].sum() / max(m.sum(), 1e-30))
                        print(f"    {method + suffix:<24} min {m.min():.4f} max {m.max():.4f} "
                              f"mean {m.mean():.4f}  lower half {lower:.3f}  left half {left:.3f}")
                        entry = {"name": case, "model": str(group.model_path), "image": str(group.image),
                                 "preprocess": spec["preprocess"], "input": str(input_path),
                                 "input_name": group.input_name, "logits": spec["logits"],
                                 "layers": layers, "class": cls, "label": group.label(cls),
                                 "score": group.scores[cls], "method": method,
                                 "aug_smooth": smoothing == "aug", "eigen_smooth": smoothing == "eigen",
                                 "reference": str(path), "shape": [int(s) for s in m.shape]}
                        if method == "ablationcam":
                            entry["ablation_value"] = [group.ablation[n][2] for n in layers]
                        entries.append(entry)
                    if tag == next(iter(spec["layer_sets"])):   # FullGrad ignores layers: once per group
                        m = fullgrad(args.binary.resolve(), group.model_path, group.model, group.x, input_path,
                                     spec["logits"], cls, Path(tmp) / f"{case}_{cls}_fullgrad")
                        path = camdir / f"{case}_{cls}_fullgrad.npy"
                        np.save(path, m.astype(np.float32))
                        print(f"    {'fullgrad':<24} min {m.min():.4f} max {m.max():.4f} mean {m.mean():.4f}")
                        entries.append({**entry, "method": "fullgrad", "aug_smooth": False, "eigen_smooth": False,
                                        "layers": [], "reference": str(path)})
    out = outdir / "cam_cases.json"
    out.write_text(json.dumps({"cases": entries}, indent=1) + "\n")
    print(f"{len(entries)} maps → {out} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
