#!/usr/bin/env bash
# The README's deployment-debugging page (reports/examples/diff/): the small CNN of
# scripts/reference/quantized_models.py against its QDQ int8 copy whose one conv's weight scale
# was multiplied by 8, over the 20 photos that make test's blame test uses.
# Usage: bash scripts/example-diff.sh CNN_VIZ_BINARY [SHARED]
set -euo pipefail
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shared="${2:-../shared}"
quantized=.build/reference/quantized
[ -f "$quantized/blame/blame.json" ] || python3 scripts/reference/quantized_models.py .build/reference --shared "$shared"
rm -rf reports/examples/diff
mkdir -p reports/examples/diff
# The page names the photos as given; run from the folder so that the names stay relative.
(cd "$quantized" && "$bin" diff blame --model small_cnn.onnx --model-b blame/damaged.onnx --preprocess imagenet --resize-only \
  --html "$OLDPWD/reports/examples/diff/dataset-diff.html" >/dev/null) || [ $? = 3 ]
