#!/usr/bin/env bash
# The README's feature visualisation pictures (reports/examples/visualize/): channel reports of
# the embedded shapes model's relu3 and relu4 with dataset examples from 64 generated scenes,
# and of the real SqueezeNet's fire9/concat_1 with examples from SHARED/data/images.
# Usage: bash scripts/example-visualize.sh CNN_VIZ_BINARY [SHARED]
set -euo pipefail
bin="$1"
shared="${2:-../shared}"
work=.build/example-visualize
rm -rf "$work" reports/examples/visualize
"$bin" shapes generate --count 64 --seed 31 --out "$work/scenes" >/dev/null
for layer in relu3 relu4; do
  "$bin" visualize --layer "$layer" --channels 0-7 --examples "$work/scenes" --top-k 6 --out "reports/examples/visualize/shapes-$layer" >/dev/null
done
"$bin" visualize --model "$shared/data/models/squeezenet1.1_fp32_from_winml_fp16.onnx" --preprocess caffe --layer fire9/concat_1 \
  --channels 0-7 --examples "$shared/data/images" --top-k 6 --out reports/examples/visualize/squeezenet-fire9 >/dev/null
# The pages name files as the run saw them; keep them relative to the repository.
{ grep -rlF "$PWD/" reports/examples/visualize || true; } | xargs -r sed -i "s|$PWD/||g"
# Keep the report picture and page; the per-channel PNGs and the grid repeat them.
rm -f reports/examples/visualize/*/channel_*.png reports/examples/visualize/*/grid.png
