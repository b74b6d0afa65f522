#!/usr/bin/env bash
# libFuzzer over the entry points that read untrusted bytes: the ONNX loader (and session
# build), the PNG/JPEG decoder, the .npy reader and the preprocessing option parsers.
# Usage: scripts/fuzz.sh [SECONDS per fuzzer, default 60] [FUZZERS…]
# The harnesses (fuzz/Sources) are built as a separate package that depends on this checkout,
# with -sanitize=fuzzer,address and lld (gold crashes on these objects) (each harness calls LLVMFuzzerRunDriver from its own main); each runs with a seed corpus from the project's own samples
# (and ../shared when present), a 2 GiB RSS limit, and writes crashes to .build/fuzz/findings.
# Exit status 1 if any fuzzer finds a crash, a leak-free OOM or a timeout.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"; shift || true
fuzzers=("${@:-FuzzONNX FuzzImage FuzzNumpy FuzzOptions}")
fuzzers=(${fuzzers[*]})
shared="${CNNVIZ_SHARED:-$repo/../shared}"
work="$repo/.build/fuzz"
mkdir -p "$work/package/Sources" "$work/findings"
ln -sfn "$repo" "$work/package/cnn-viz"
rm -rf "$work/package/Sources" && cp -R "$repo/fuzz/Sources" "$work/package/Sources"
cat > "$work/package/Package.swift" <<'SWIFT'
// swift-tools-version:6.0
import PackageDescription

let fuzzers = ["FuzzONNX": "CNNVizRuntime", "FuzzImage": "CNNVizImaging", "FuzzNumpy": "CNNVizRuntime", "FuzzOptions": "CNNVizImaging"]
let package = Package(
    name: "cnn-viz-fuzz",
    dependencies: [.package(path: "cnn-viz")],
    targets: [.target(name: "FuzzDriver")] + fuzzers.map { name, module in
        .executableTarget(name: name, dependencies: ["FuzzDriver", .product(name: module, package: "cnn-viz")])
    },
    swiftLanguageModes: [.v5]
)
SWIFT
(cd "$work/package" && swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld 2>&1 | grep -E "error|warning: unre|Compiling Fuzz|Build" | tail -5)
# Seed corpora: small real files of each kind.
seeds="$work/seeds"; mkdir -p "$seeds"/{FuzzONNX,FuzzImage,FuzzNumpy,FuzzOptions}
cp "$repo"/samples/models/*.onnx "$seeds/FuzzONNX/" 2>/dev/null || true
if [ -d "$shared/onnx-node-tests/node" ]; then
  i=0; for m in "$shared"/onnx-node-tests/node/test_*/model.onnx "$shared"/onnx-node-tests-next/node/test_*/model.onnx; do
    i=$((i + 1)); cp "$m" "$seeds/FuzzONNX/node$i.onnx"; done
fi
cp "$repo"/samples/images/*.png "$seeds/FuzzImage/" 2>/dev/null || true
[ -d "$shared/data/images" ] && find "$shared/data/images" -size -200k \( -name '*.png' -o -name '*.jpg' \) -exec cp {} "$seeds/FuzzImage/" \;
python3 - "$seeds/FuzzNumpy" <<'PY'
import sys, numpy as np
out = sys.argv[1]
for i, (dtype, shape) in enumerate([("<f4", (1, 3, 4, 4)), ("<f8", (2, 5)), ("<i8", (7,)), ("|u1", (3, 3)), ("<f2", (4,)), ("<i4", ())]):
    np.save(f"{out}/seed{i}.npy", np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape))
np.save(f"{out}/fortran.npy", np.asfortranarray(np.ones((3, 2), "<f4")))
PY
printf '224\0000224x160\0000.485,0.456,0.406\0000.229,0.224,0.225\0001/255' > "$seeds/FuzzOptions/imagenet"
printf 'none\000none\0000.5\0001\0001' > "$seeds/FuzzOptions/none"
status=0
for fuzzer in "${fuzzers[@]}"; do
  corpus="$work/corpus/$fuzzer"; mkdir -p "$corpus"
  log="$work/$fuzzer.log"
  if ! "$work/package/.build/release/$fuzzer" "$corpus" "$seeds/$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 \
       -malloc_limit_mb=2048 -timeout=20 -artifact_prefix="$work/findings/$fuzzer-" -print_final_stats=1 > "$log" 2>&1; then
    echo "$fuzzer: FOUND a problem; see $log and $work/findings"; status=1
  fi
  runs=$(grep -E "stat::number_of_executed_units" "$log" | awk '{print $2}')
  speed=$(grep -E "stat::average_exec_per_sec" "$log" | awk '{print $2}')
  cov=$(grep -oE "cov: [0-9]+" "$log" | tail -1)
  echo "$fuzzer: ${seconds}s, $runs executions, $speed exec/s, $cov"
done
exit $status
