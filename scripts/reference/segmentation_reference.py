#!/usr/bin/env python3
"""pytorch-grad-cam's Grad-CAM for a region of a segmentation map, on a torchvision model.

Usage: python3 scripts/reference/segmentation_reference.py OUTDIR [--shared DIR]

torchvision's DeepLabV3 with a MobileNetV3-Large backbone (21 classes), weights from
torch.manual_seed(0) (no download), in eval mode. It is exported with torch.onnx.export as
`out` (the upsampled class map, as the model's forward gives it) plus `feature`, the output
of model.backbone["16"] (the layer pytorch-grad-cam explains), so the Swift test can name that
layer. The reference map is pytorch-grad-cam's GradCAM on model.backbone["16"] with
SemanticSegmentationTarget(category, mask): the category that wins the centre pixel, and the
mask where the argmax over classes is that category, as its segmentation tutorial builds it
(or, when seeded weights make that class win nearly everywhere, a box over the cat's head).

Writes OUTDIR/segmentation/segmentation.json with the model, input, category, mask and map.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import SemanticSegmentationTarget

REPO_ROOT = Path(__file__).resolve().parents[2]


class Exported(torch.nn.Module):
    """The model's own forward (torchvision _SimpleSegmentationModel, no aux head), plus the
    backbone feature as a second output."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        feature = self.model.backbone(x)["out"]
        out = F.interpolate(self.model.classifier(feature), size=x.shape[-2:], mode="bilinear", align_corners=False)
        return out, feature


class OutOnly(torch.nn.Module):
    """What pytorch-grad-cam's tutorial wraps: model(x)["out"]."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--shared", default=str(REPO_ROOT.parent / "shared"))
    args = parser.parse_args()
    out = Path(args.outdir).resolve() / "segmentation"
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(2)
    model = torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=21).eval()

    image = Image.open(Path(args.shared) / "data" / "images" / "skimage_chelsea.png").convert("RGB").resize((224, 224), Image.BILINEAR)
    x = (np.asarray(image, np.float32) / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    x = torch.from_numpy(x.transpose(2, 0, 1)[None].astype(np.float32))

    with torch.no_grad():
        scores, feature = Exported(model)(x)
        reference_out = OutOnly(model)(x)
    assert torch.equal(scores, reference_out), "the exported forward must be the model's own"
    predicted = scores[0].argmax(0).numpy()
    category = int(predicted[112, 112])
    mask = (predicted == category).astype(np.float32)
    mask_kind = "predicted"
    if not 0.01 < mask.mean() < 0.9:
        # Seeded weights can make one class win almost everywhere; a mask of every pixel would
        # not test the region at all. Then the mask is a box around the cat's head instead.
        mask = np.zeros_like(mask)
        mask[40:130, 60:170] = 1
        mask_kind = "box"

    path = out / "deeplabv3_mobilenet_v3.onnx"
    torch.onnx.export(Exported(model), (x,), str(path), input_names=["input"], output_names=["out", "feature"],
                      opset_version=17, dynamo=False)

    cam = GradCAM(model=OutOnly(model), target_layers=[model.backbone["16"]])
    grayscale = cam(input_tensor=x, targets=[SemanticSegmentationTarget(category, mask)])[0]
    np.save(out / "input.npy", x.numpy())
    np.save(out / "mask.npy", mask)
    np.save(out / "gradcam.npy", grayscale.astype(np.float32))
    case = {"model": str(path), "input": str(out / "input.npy"), "mask": str(out / "mask.npy"), "category": category,
            "layer": "feature", "output": "out", "map": str(out / "gradcam.npy"), "mask_kind": mask_kind, "mask_fraction": float(mask.mean()),
            "feature_shape": list(feature.shape)}
    (out / "segmentation.json").write_text(json.dumps(case, indent=1) + "\n")
    print(f"segmentation: category {category}, {mask_kind} mask over {mask.mean():.1%} of the pixels, feature {list(feature.shape)}, "
          f"map max {grayscale.max():.3f} → {out / 'segmentation.json'}")


if __name__ == "__main__":
    main()
