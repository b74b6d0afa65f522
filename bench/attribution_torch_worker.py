#!/usr/bin/env python3
"""Time one attribution with pytorch-grad-cam or Captum, in its own process.

Usage: python3 bench/attribution_torch_worker.py MODEL.onnx INPUT.npy METHOD CLASS LAYER RUNS

Written for bench.py's attribution table but not run where it was written
(no torch there): bench.py starts it only when torch and the method's library
import. The model is torch_worker.py's ONNX interpreter (its OPS table) in an
nn.Module: weights are nn.Parameters with requires_grad=False (no weight
gradient, as in cnn-viz), LAYER's tensor goes through an nn.Identity so that
pytorch-grad-cam's hooks see it, tensors are dropped after their last use
and the output is the pre-softmax logit as [N, classes]. METHOD is one of:
  gradcam               pytorch-grad-cam GradCAM on LAYER (the input requires
                        grad so that LAYER's output does);
  scorecam              pytorch-grad-cam ScoreCAM on LAYER, batch_size 32;
  integrated-gradients  Captum IntegratedGradients, 32 steps, gausslegendre,
                        internal_batch_size 32;
  smoothgrad            Captum NoiseTunnel(Saliency), abs=False, 16 samples,
                        stdevs 0.15, one batch;
each for CLASS. torch.set_num_threads(2). One untimed run, then RUNS timed.
Prints one JSON line: {"attribution_ms": median_ms}.
"""

import json
import statistics
import sys
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from torch_worker import OPS, _attrs, data_input
import torchvision_stub

torchvision_stub.install()  # pytorch-grad-cam imports torchvision; see torchvision_stub.py


class OnnxModule(torch.nn.Module):
    """The ONNX graph up to its pre-softmax logit, with LAYER behind self.cam."""

    def __init__(self, graph, layer):
        super().__init__()
        producer = {o: n for n in graph.node for o in n.output}
        output = graph.output[0].name
        if producer[output].op_type == "Softmax":
            output = producer[output].input[0]
        nodes = graph.node[:next(i for i, n in enumerate(graph.node) if output in n.output) + 1]
        self.names = [t.name for t in graph.initializer]
        last_use = {t: i for i, n in enumerate(nodes) for t in n.input}
        last_use.update(dict.fromkeys(self.names, -1))  # weights stay
        # (op, attributes, input names, output name, inputs read for the last time)
        self.nodes = [(n.op_type, _attrs(n), list(n.input), n.output[0],
                       [t for t in set(n.input) if last_use[t] == i]) for i, n in enumerate(nodes)]
        self.input, self.layer, self.output = data_input(graph), layer, output
        self.weights = torch.nn.ParameterList(
            torch.nn.Parameter(torch.from_numpy(numpy_helper.to_array(t).copy()),
                               requires_grad=False) for t in graph.initializer)
        self.cam = torch.nn.Identity()

    def forward(self, x):
        env = {**dict(zip(self.names, self.weights)), self.input: x}
        for op, attrs, inputs, out, done in self.nodes:
            y = OPS[op](attrs, *(env[t] for t in inputs))
            for t in done:
                del env[t]
            env[out] = self.cam(y) if out == self.layer else y
        return env[self.output].flatten(1)


def attribution(method, model, x, cls):
    """A zero-argument callable computing one attribution map."""
    if method in ("gradcam", "scorecam"):
        from pytorch_grad_cam import GradCAM, ScoreCAM
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
        cam = (GradCAM if method == "gradcam" else ScoreCAM)(model=model,
                                                             target_layers=[model.cam])
        cam.batch_size = 32
        x = x.clone().requires_grad_()
        return lambda: cam(input_tensor=x, targets=[ClassifierOutputTarget(cls)])
    from captum.attr import IntegratedGradients, NoiseTunnel, Saliency
    if method == "integrated-gradients":
        ig = IntegratedGradients(model)
        return lambda: ig.attribute(x, target=cls, n_steps=32, method="gausslegendre",
                                    internal_batch_size=32)
    if method == "smoothgrad":
        nt = NoiseTunnel(Saliency(model))
        return lambda: nt.attribute(x, nt_type="smoothgrad", nt_samples=16,
                                    nt_samples_batch_size=32, stdevs=0.15, target=cls, abs=False)
    raise ValueError(f"unknown method {method!r}")


def main():
    if len(sys.argv) != 7:
        sys.exit(__doc__.strip().splitlines()[2])
    model_path, tensor, method, cls, layer, runs = sys.argv[1:]
    torch.set_num_threads(2)
    model = OnnxModule(onnx.load(model_path).graph, layer).eval()
    compute = attribution(method, model, torch.from_numpy(np.load(tensor)), int(cls))
    times = []
    for _ in range(int(runs) + 1):  # the first is untimed
        t0 = time.perf_counter()
        compute()
        times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"attribution_ms": statistics.median(times[1:])}))


if __name__ == "__main__":
    main()
