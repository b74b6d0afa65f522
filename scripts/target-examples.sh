#!/usr/bin/env bash
# The README's "Targets" pictures: one per kind of target, on the models that make test
# prepares in .build/reference (run make test first). Writes reports/examples/targets/.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/cnn-viz
REF=.build/reference
SHARED=${SHARED:-../shared}
OUT=reports/examples/targets
SQUEEZE="$SHARED/data/models/squeezenet1.1_fp32_from_winml_fp16.onnx"
LABELS="$SHARED/data/labels/imagenet_synset.txt"
rm -rf "$OUT" && mkdir -p "$OUT"
keep() { mv "$1" "$OUT/$2"; }

# class: a classifier's class (SqueezeNet, the tabby-cat class 281)
$BIN gradcam "$SHARED/data/images/gradcam_both.png" --model "$SQUEEZE" --preprocess caffe --labels "$LABELS" --class 281 --out /tmp/targets-class
keep /tmp/targets-class/gradcam_281.png class.png
# region: one class of a segmenter over a box (torchvision DeepLabV3, seeded weights)
$BIN gradcam --tensor $REF/segmentation/input.npy --model $REF/segmentation/deeplabv3_mobilenet_v3.onnx \
  --output out --class 18 --box 60,40,170,130 --layer feature --out /tmp/targets-region
keep /tmp/targets-region/gradcam_region_18.png region.png
# region on a detector's dense output: the text box that PP-OCRv4's DBNet finds
$BIN gradcam --tensor $REF/wheels/text_page.npy --display-image $REF/wheels/text_page.png \
  --model $REF/wheels/ch_PP-OCRv4_det_infer.onnx --box 185,78,408,95 --class 0 --out /tmp/targets-text
keep /tmp/targets-text/gradcam_region_0.png text-box.png
# element: one (timestep, character) of PP-OCRv4's CTC recogniser, output [1, 40, 6625]
$BIN gradcam --tensor $REF/wheels/text_line.npy --display-image $REF/wheels/text_line.png \
  --model $REF/wheels/ch_PP-OCRv4_rec_infer.onnx --index 13,3587 --out /tmp/targets-element
keep /tmp/targets-element/gradcam_element_13_3587.png element.png
# detection: the best detection of a raw YOLOX head [1, 3549, 6] (ddddocr's common_det.onnx,
# pretrained, from its wheel), on a letterboxed BGR 0–255 tensor
$BIN gradcam --tensor $REF/exports/ddddocr_common_det.in.images.npy --model $REF/exports/wheels/ddddocr-1.6.1-common_det.onnx \
  --detection 1 --preprocess none --scale 1 --bgr --out /tmp/targets-detection
keep /tmp/targets-detection/gradcam_detection1.png detection.png
# output: a named output that is not the first (MTCNN ONet's face probability)
# (the picture is the tensor through the inverse of MTCNN's (x − 127.5)/128)
$BIN saliency --tensor $REF/mtcnn/input.npy --model $REF/mtcnn/onet.onnx --output prob --class 1 \
  --preprocess none --scale 1 --mean 127.5 --std 128 --out /tmp/targets-output
keep /tmp/targets-output/gradient_1.png output.png
# similarity: SqueezeNet's pooled features against another photo's
$BIN gradcam "$SHARED/data/images/skimage_chelsea.png" --model "$SQUEEZE" --preprocess caffe \
  --output pool10_1 --similar-to "$SHARED/data/images/winml_kitten_224.png" --out /tmp/targets-similarity
keep /tmp/targets-similarity/gradcam_similarity.png similarity.png
# cotangent: any seed of the output's shape (here +1 on class 281, −1 on class 285)
python3 -c "import numpy as np; c = np.zeros((1, 1000, 1, 1), np.float32); c[0, 281] = 1; c[0, 285] = -1; np.save('/tmp/targets-cotangent.npy', c)"
$BIN gradcam "$SHARED/data/images/skimage_chelsea.png" --model "$SQUEEZE" --preprocess caffe \
  --cotangent /tmp/targets-cotangent.npy --out /tmp/targets-cotangent
keep /tmp/targets-cotangent/gradcam_cotangent.png cotangent.png
rm -rf /tmp/targets-* 
ls "$OUT"
