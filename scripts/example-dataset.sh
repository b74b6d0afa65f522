#!/usr/bin/env bash
# The README's dataset example (reports/examples/dataset/): 16 generated scenes in two
# folders, a manifest whose label is each scene's first class, Grad-CAM for the true label
# and the prediction, the index page.
# Usage: bash scripts/example-dataset.sh CNN_VIZ_BINARY
set -euo pipefail
bin="$1"
work=.build/example-dataset
rm -rf "$work" reports/examples/dataset
"$bin" shapes generate --count 16 --seed 21 --out "$work/scenes" >/dev/null
mkdir -p "$work/data/train" "$work/data/val"
echo "path,label" > "$work/data/manifest.csv"
n=0
for scene in "$work"/scenes/scene_*.png; do
  name=$(basename "$scene")
  folder=$([ $((n % 4)) = 0 ] && echo val || echo train)
  cp "$scene" "$work/data/$folder/$name"
  label=${name%.png}; label=${label##*_}; label=${label%%+*}
  echo "$folder/$name,$label" >> "$work/data/manifest.csv"
  n=$((n + 1))
done
"$bin" gradcam --manifest "$work/data/manifest.csv" --class label,predicted --out reports/examples/dataset >/dev/null
# The records and pages name files as the run saw them; keep them relative to the repository.
grep -rlF "$PWD/" reports/examples/dataset | xargs -r sed -i "s|$PWD/||g"
