#!/usr/bin/env bash
# cnn-viz as an ordinary, version-pinned dependency: clone this repository's HEAD, tag the
# clone 1.0.0, and build examples/consumer as a separate package that depends on it through
# that file:// git URL and the umbrella product CNNViz; then run it on a sample scene.
# SwiftPM refuses a pinned dependency with unsafe flags, so this also checks that none are set.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# The README shows the program verbatim.
python3 - "$repo" <<'PY'
import sys
from pathlib import Path
repo = Path(sys.argv[1])
program = (repo / "examples/consumer/Sources/ExplainShapes/main.swift").read_text()
if "```swift\n" + program + "```" not in (repo / "README.md").read_text():
    sys.exit("README.md's library section must show examples/consumer/Sources/ExplainShapes/main.swift verbatim")
PY
work="$repo/.build/package-check"
rm -rf "$work" && mkdir -p "$work"
git clone -q "$repo" "$work/cnn-viz"
git -C "$work/cnn-viz" -c user.name=check -c user.email=check@localhost tag -a 1.0.0 -m "package check"
mkdir -p "$work/consumer"
cp -R "$repo/examples/consumer/Sources" "$work/consumer/"
cat > "$work/consumer/Package.swift" <<SWIFT
// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "consumer",
    dependencies: [.package(url: "file://$work/cnn-viz", exact: "1.0.0")],
    targets: [.executableTarget(name: "ExplainShapes", dependencies: [.product(name: "CNNViz", package: "cnn-viz")])],
    swiftLanguageModes: [.v5]
)
SWIFT
(cd "$work/consumer" && swift build -c release 2>&1 | tail -3)
scene="$(ls "$repo"/samples/images/*+*_1.png | head -1)"
"$work/consumer/.build/release/ExplainShapes" "$scene" "$work/overlay.png"
test -s "$work/overlay.png"
echo "package check: a version-pinned dependent package built and ran Grad-CAM through CNNViz"
