#!/usr/bin/env python3
"""Build the five benchmark CNNs as ONNX files, with seeded random weights.

Usage: python3 bench/make_models.py OUTDIR

Writes OUTDIR/{resnet18,resnet50,mobilenetv2,squeezenet1_1,vgg16}.onnx and
OUTDIR/input.npy (float32 [1,3,224,224], standard normal, seeded).

The graphs follow torchvision's architectures (layer counts, channels,
strides, paddings, groups) in the form `torch.onnx.export` emits for a model
in eval mode, opset 13, IR version 8, batch 1:
  - BatchNorm is folded into the preceding Conv, so every Conv has a bias;
  - ReLU -> Relu; ReLU6 -> Clip with min/max as scalar initializer inputs;
  - residual connections -> Add; AdaptiveAvgPool2d((1,1)) -> GlobalAveragePool;
  - torch.flatten(x, 1) -> Flatten; Linear -> Gemm(transB=1); Dropout omitted.
  - VGG-16's AdaptiveAvgPool2d((7,7)) is the identity at 224x224: omitted.
Input is `input` [1,3,224,224], output is `logits` [1,1000]. Weights are
He-normal (std sqrt(2/fan_in)), biases small normal; no torch is needed.
The weights are random: these models are for timing, not for accuracy.
"""

import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OPSET, IR_VERSION = 13, 8
INPUT_SEED = 1234


class Net:
    """Accumulates nodes and initializers for one graph."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.clip_bounds = None

    def _init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array, np.float32), name))
        return name

    def _node(self, op, inputs, scope, output=None, **attrs):
        """Add a node named torch-style (/scope/Op), return its output name."""
        name = f"/{scope.replace('.', '/')}/{op}" if scope else f"/{op}"
        output = output or name + "_output_0"
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def conv(self, x, cin, cout, k, scope, stride=1, pad=0, groups=1, gain=1.0):
        """Conv with bias (BatchNorm, if any, is considered folded in)."""
        fan_in = cin // groups * k * k
        w = self.rng.normal(0, gain * np.sqrt(2.0 / fan_in), (cout, cin // groups, k, k))
        b = self.rng.normal(0, 0.01, cout)
        return self._node("Conv", [x, self._init(scope + ".weight", w),
                                   self._init(scope + ".bias", b)], scope,
                          kernel_shape=[k, k], strides=[stride, stride],
                          pads=[pad] * 4, group=groups, dilations=[1, 1])

    def relu(self, x, scope):
        return self._node("Relu", [x], scope)

    def relu6(self, x, scope):
        """ReLU6 as opset-13 Clip with constant scalar min/max inputs."""
        if self.clip_bounds is None:
            self.clip_bounds = [self._init("clip.min", np.float32(0)),
                                self._init("clip.max", np.float32(6))]
        return self._node("Clip", [x] + self.clip_bounds, scope)

    def add(self, a, b, scope):
        return self._node("Add", [a, b], scope)

    def maxpool(self, x, scope, k, stride, pad=0, ceil=False):
        return self._node("MaxPool", [x], scope, kernel_shape=[k, k],
                          strides=[stride, stride], pads=[pad] * 4,
                          ceil_mode=int(ceil))

    def head(self, x, scope):
        """GlobalAveragePool -> Flatten (torchvision's avgpool + flatten)."""
        x = self._node("GlobalAveragePool", [x], scope)
        return self._node("Flatten", [x], "", axis=1)

    def gemm(self, x, fin, fout, scope, output=None):
        w = self.rng.normal(0, np.sqrt(2.0 / fin), (fout, fin))
        b = self.rng.normal(0, 0.01, fout)
        return self._node("Gemm", [x, self._init(scope + ".weight", w),
                                   self._init(scope + ".bias", b)], scope,
                          output=output, alpha=1.0, beta=1.0, transB=1)

    def model(self, name):
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
            [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])],
            initializer=self.inits)
        return helper.make_model(graph, ir_version=IR_VERSION,
                                 opset_imports=[helper.make_opsetid("", OPSET)],
                                 producer_name="cnn-viz bench/make_models.py")


# Residual branches end with a down-scaled conv so activations stay O(1)
# through the stacked Adds (random weights have no trained BN to do this).
RESIDUAL_GAIN = 0.3


def resnet(net, block, layers):
    """torchvision ResNet (v1.5: stride on the 3x3 conv of Bottleneck)."""
    expansion = 1 if block == "basic" else 4
    x = net.relu(net.conv("input", 3, 64, 7, "conv1", stride=2, pad=3), "relu")
    x = net.maxpool(x, "maxpool", 3, 2, pad=1)
    cin = 64
    for li, (planes, n) in enumerate(zip([64, 128, 256, 512], layers)):
        for bi in range(n):
            s = f"layer{li + 1}.{bi}"
            stride = 2 if (li > 0 and bi == 0) else 1
            cout = planes * expansion
            if block == "basic":
                y = net.relu(net.conv(x, cin, planes, 3, s + ".conv1", stride, 1), s + ".relu")
                y = net.conv(y, planes, planes, 3, s + ".conv2", 1, 1, gain=RESIDUAL_GAIN)
            else:
                y = net.relu(net.conv(x, cin, planes, 1, s + ".conv1"), s + ".relu")
                y = net.relu(net.conv(y, planes, planes, 3, s + ".conv2", stride, 1), s + ".relu_1")
                y = net.conv(y, planes, cout, 1, s + ".conv3", gain=RESIDUAL_GAIN)
            if stride != 1 or cin != cout:
                x = net.conv(x, cin, cout, 1, s + ".downsample.0", stride)
            x = net.relu(net.add(y, x, s + ".add"), s + ".relu_out")
            cin = cout
    x = net.head(x, "avgpool")
    return net.gemm(x, 512 * expansion, 1000, "fc", output="logits")


def mobilenetv2(net):
    """torchvision MobileNetV2, width_mult=1.0."""
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    x = net.relu6(net.conv("input", 3, 32, 3, "features.0.0", stride=2, pad=1), "features.0.2")
    cin, idx = 32, 1
    for t, c, n, s in settings:
        for i in range(n):
            stride, hidden, p = (s if i == 0 else 1), cin * t, f"features.{idx}.conv"
            y, j = x, 0
            if t != 1:  # 1x1 expansion
                y = net.relu6(net.conv(y, cin, hidden, 1, f"{p}.0.0"), f"{p}.0.2")
                j = 1
            # 3x3 depthwise, then linear 1x1 projection
            y = net.relu6(net.conv(y, hidden, hidden, 3, f"{p}.{j}.0", stride, 1, groups=hidden),
                          f"{p}.{j}.2")
            gain = RESIDUAL_GAIN if stride == 1 and cin == c else 1.0
            y = net.conv(y, hidden, c, 1, f"{p}.{j + 1}", gain=gain)
            x = net.add(x, y, f"features.{idx}.add") if stride == 1 and cin == c else y
            cin, idx = c, idx + 1
    x = net.relu6(net.conv(x, cin, 1280, 1, f"features.{idx}.0"), f"features.{idx}.2")
    x = net.head(x, "avgpool")
    return net.gemm(x, 1280, 1000, "classifier.1", output="logits")


def squeezenet1_1(net):
    """torchvision SqueezeNet 1.1 (no BatchNorm; MaxPools use ceil_mode)."""
    def fire(x, cin, squeeze, expand, i):
        p = f"features.{i}"
        s = net.relu(net.conv(x, cin, squeeze, 1, p + ".squeeze"), p + ".squeeze_activation")
        a = net.relu(net.conv(s, squeeze, expand, 1, p + ".expand1x1"), p + ".expand1x1_activation")
        b = net.relu(net.conv(s, squeeze, expand, 3, p + ".expand3x3", pad=1),
                     p + ".expand3x3_activation")
        return net._node("Concat", [a, b], p, axis=1)

    x = net.relu(net.conv("input", 3, 64, 3, "features.0", stride=2), "features.1")
    x = net.maxpool(x, "features.2", 3, 2, ceil=True)
    x = fire(x, 64, 16, 64, 3)
    x = fire(x, 128, 16, 64, 4)
    x = net.maxpool(x, "features.5", 3, 2, ceil=True)
    x = fire(x, 128, 32, 128, 6)
    x = fire(x, 256, 32, 128, 7)
    x = net.maxpool(x, "features.8", 3, 2, ceil=True)
    x = fire(x, 256, 48, 192, 9)
    x = fire(x, 384, 48, 192, 10)
    x = fire(x, 384, 64, 256, 11)
    x = fire(x, 512, 64, 256, 12)
    x = net.relu(net.conv(x, 512, 1000, 1, "classifier.1"), "classifier.2")
    x = net._node("GlobalAveragePool", [x], "classifier.3")
    return net._node("Flatten", [x], "", output="logits", axis=1)


def vgg16(net):
    """torchvision VGG-16 (configuration D, no BatchNorm)."""
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
           512, 512, 512, "M", 512, 512, 512, "M"]
    x, cin = "input", 3
    for i, v in enumerate(cfg):
        if v == "M":
            x = net.maxpool(x, f"features.{i}", 2, 2)
        else:
            x = net.relu(net.conv(x, cin, v, 3, f"features.{i}", pad=1), f"features.{i}.relu")
            cin = v
    x = net._node("Flatten", [x], "", axis=1)
    x = net.relu(net.gemm(x, 512 * 7 * 7, 4096, "classifier.0"), "classifier.1")
    x = net.relu(net.gemm(x, 4096, 4096, "classifier.3"), "classifier.4")
    return net.gemm(x, 4096, 1000, "classifier.6", output="logits")


MODELS = {
    "resnet18": lambda net: resnet(net, "basic", [2, 2, 2, 2]),
    "resnet50": lambda net: resnet(net, "bottleneck", [3, 4, 6, 3]),
    "mobilenetv2": mobilenetv2,
    "squeezenet1_1": squeezenet1_1,
    "vgg16": vgg16,
}


def validate(path, x):
    """onnx.checker plus one onnxruntime run: shape, finiteness, variety."""
    onnx.checker.check_model(str(path))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (y,) = sess.run(["logits"], {"input": x})
    assert y.shape == (1, 1000), y.shape
    assert np.isfinite(y).all(), "non-finite logits"
    assert np.ptp(y) > 0, "all logits equal"
    return y


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_models.py OUTDIR")
    outdir = Path(sys.argv[1])
    outdir.mkdir(parents=True, exist_ok=True)
    x = np.random.default_rng(INPUT_SEED).standard_normal((1, 3, 224, 224)).astype(np.float32)
    np.save(outdir / "input.npy", x)
    for seed, (name, build) in enumerate(MODELS.items()):
        net = Net(seed)
        build(net)
        model = net.model(name)
        path = outdir / f"{name}.onnx"
        onnx.save(model, path)
        y = validate(path, x)
        params = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
        print(f"{name:14s} {len(model.graph.node):4d} nodes {params / 1e6:7.2f} M params  "
              f"logits std {y.std():.3g} top-1 {int(y.argmax())}  -> {path}")


if __name__ == "__main__":
    main()
