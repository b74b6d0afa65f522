# cnn-viz: `make demo` and `make test` work on a fresh Debian machine with Swift.
# Both install what is missing (apt-get when run as root, else through sudo), then build in release mode.

SHARED ?= ../shared
# The kernels' vector width for this project's own builds, given on the command line so that
# Package.swift carries no unsafe flags (a package depending on cnn-viz builds it without them).
TARGET_CPU ?= $(if $(filter x86_64,$(shell uname -m)),haswell,)
SWIFT_FLAGS := -c release $(if $(TARGET_CPU),-Xswiftc -target-cpu -Xswiftc $(TARGET_CPU),)
APT_PACKAGES := pkg-config libpng-dev libjpeg62-turbo-dev libturbojpeg0-dev libcairo2-dev libopenblas-dev libdnnl-dev
BIN := .build/release/cnn-viz
REFERENCE_DIR := .build/reference

.PHONY: all deps python-deps torch-deps build demo check package-check fuzz test-asan bad-inputs examples-targets examples-screenshots shapes-model embed-model samples examples test test-browser test-index-browser test-visualize-browser test-cluster-examples dataset-equivalence chromium bench conformance clean

all: build

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	fi

python-deps:
	@python3 -c "import onnx, onnxruntime, numpy, PIL, matplotlib, cv2, websocket, yaml, kubernetes_validate" 2>/dev/null || python3 -m pip install -q -r scripts/requirements.txt

# torch, torchvision and pytorch-grad-cam, for the segmentation reference only (make test).
torch-deps:
	@python3 -c "import torch, torchvision, pytorch_grad_cam, ultralytics, captum" 2>/dev/null || python3 -m pip install -q -r scripts/requirements-torch.txt

build: deps
	swift build $(SWIFT_FLAGS)

# Grad-CAM with the embedded shapes model on a two-object sample scene: one overlay per class
# present (the top 2), the raw maps as .npy and an HTML report, under reports/demo/.
DEMO_SCENE := samples/images/$(notdir $(firstword $(wildcard samples/images/*+*_1.png)))
demo: build
	$(BIN) gradcam $(DEMO_SCENE) --top 2 --out reports/demo
	@echo "demo: overlays, raw maps and the HTML report are in reports/demo/ (listed above)"

# The default model: train it (about 5 minutes on 2 cores), keep checkpoints for the filter
# evolution picture, embed it in the binary, redraw the sample scenes and reports/examples/.
shapes-model: build
	$(BIN) train shapes --out samples/models/shapes.onnx --checkpoints 0 1 2 12 --checkpoint-directory .build/checkpoints
	python3 scripts/embed-model.py
	$(MAKE) examples

embed-model:
	python3 scripts/embed-model.py

samples: build
	python3 scripts/make-samples.py

# reports/examples/: the output of make demo, a report, the filter evolution across the
# checkpoints that make shapes-model leaves in .build/checkpoints, and on a real photo with the
# real SqueezeNet (../shared): a signed saliency map and Grad-CAM over the photo at its own
# size; then screenshots of the HTML pages from headless Chromium (make examples-screenshots).
# targets/ is scripts/target-examples.sh's (make examples-targets) and is kept, and so is
# filters/ when there are no checkpoints to draw.
SQUEEZENET := --model $(SHARED)/data/models/squeezenet1.1_fp32_from_winml_fp16.onnx --preprocess caffe \
  --labels $(SHARED)/data/labels/imagenet_synset.txt
CHECKPOINTS := $(shell ls .build/checkpoints/epoch*.onnx 2>/dev/null | sort -V)
examples: build
	cd reports/examples && rm -rf gradcam report saliency saliency-model-view photo dataset diff visualize screenshots
	$(BIN) gradcam $(DEMO_SCENE) --top 2 --out reports/examples/gradcam
	$(BIN) report samples/images/*.png --out reports/examples/report
	$(if $(CHECKPOINTS),rm -rf reports/examples/filters && $(BIN) filters --layer conv1 --out reports/examples/filters \
	  $(foreach c,$(CHECKPOINTS),--model $(c)),@echo "no checkpoints in .build/checkpoints (make shapes-model): reports/examples/filters kept")
	$(BIN) saliency $(SHARED)/data/images/skimage_chelsea.png $(SQUEEZENET) --method integrated-gradients --steps 32 \
	  --out reports/examples/saliency
	$(BIN) saliency $(SHARED)/data/images/skimage_chelsea.png $(SQUEEZENET) --method integrated-gradients --steps 32 \
	  --view model --out reports/examples/saliency-model-view
	$(BIN) gradcam $(SHARED)/data/images/skimage_chelsea.png $(SQUEEZENET) --out reports/examples/photo
	bash scripts/example-dataset.sh $(BIN)
	bash scripts/example-diff.sh $(BIN) $(SHARED)
	bash scripts/example-visualize.sh $(BIN) $(SHARED)
	$(MAKE) examples-screenshots

# Every HTML page of reports/examples/ opened in headless Chromium (scripts/browser_check.py:
# no console error, nothing fetched from outside, every image decoded), its screenshot kept.
EXAMPLE_PAGES := gradcam/gradcam.html report/index.html report/star_1/report.html filters/filters.html \
  saliency/integrated-gradients.html photo/gradcam.html dataset/index.html diff/dataset-diff.html \
  visualize/shapes-relu4/visualize.html visualize/squeezenet-fire9/visualize.html
examples-screenshots: python-deps chromium
	mkdir -p reports/examples/screenshots
	$(foreach page,$(EXAMPLE_PAGES),python3 scripts/browser_check.py reports/examples/$(page) $(if $(findstring index,$(page)),--min-images 0 --allow-beside) \
	  --screenshot reports/examples/screenshots/$(subst /,-,$(page:.html=.png)) &&) true

# The README's Targets pictures (reports/examples/targets/), on the models make test prepares.
examples-targets: build
	bash scripts/target-examples.sh

# The suites that check convolutions against independent references, run again with every
# convolution on oneDNN (CNNVIZ_ENGINE=dnnl): the default runs them on cnn-viz's own kernels,
# so this keeps the oneDNN path (opened with dlopen at its first use) tested.
DNNL_TESTS := ConvolutionTests|ConvGradientTests|ConformanceTests|ModelReferenceTests|OpFiniteDifferenceTests|RealExportTests|WholeModelGradientTests

# References from onnxruntime, the onnx package and Pillow (decoded photos), then the XCTest suite on the release build,
# then a separate package that depends on cnn-viz by a pinned version.
test: build python-deps torch-deps
	python3 scripts/reference/make_references.py $(REFERENCE_DIR)
	python3 scripts/reference/decode_images.py $(REFERENCE_DIR)
	python3 scripts/reference/finite_differences.py $(REFERENCE_DIR) --shared $(SHARED)
	python3 scripts/reference/cam_reference.py $(REFERENCE_DIR) --cnn-viz $(BIN) --shared $(SHARED)
	python3 scripts/reference/saliency_reference.py $(REFERENCE_DIR) --cnn-viz $(BIN) --shared $(SHARED)
	python3 scripts/reference/dump_ort_tensors.py $(REFERENCE_DIR)/ort-tensors --shared $(SHARED)
	python3 scripts/reference/shapes_reference.py $(REFERENCE_DIR)
	python3 scripts/reference/target_references.py $(REFERENCE_DIR) --shared $(SHARED)
	python3 scripts/reference/segmentation_reference.py $(REFERENCE_DIR) --shared $(SHARED)
	python3 scripts/reference/mtcnn_reference.py $(REFERENCE_DIR) --shared $(SHARED)
	python3 scripts/reference/wheel_models.py $(REFERENCE_DIR)
	python3 scripts/reference/invalid_models.py $(REFERENCE_DIR)
	python3 scripts/reference/op_gradients.py $(REFERENCE_DIR)
	python3 scripts/reference/real_exports.py $(REFERENCE_DIR)
	python3 scripts/reference/quantized_models.py $(REFERENCE_DIR) --shared $(SHARED)
	python3 scripts/reference/feature_visualization_reference.py $(REFERENCE_DIR) --shared $(SHARED)
	swift test $(SWIFT_FLAGS) --disable-swift-testing --disable-testable-imports
	CNNVIZ_ENGINE=dnnl swift test $(SWIFT_FLAGS) --disable-swift-testing --disable-testable-imports --filter '$(DNNL_TESTS)'
	$(MAKE) test-index-browser
	$(MAKE) test-visualize-browser
	$(MAKE) test-cluster-examples
	$(MAKE) bad-inputs
	$(MAKE) package-check
	$(MAKE) fuzz FUZZ_SECONDS=60
	$(MAKE) test-asan

# The fast tier, for every commit: the suite without the default model's dataset evaluation
# and the whole-model finite differences, on the references that make test last wrote
# (a test whose reference is missing skips, outside CI). No testable imports: the tests then
# reuse the release build's modules instead of compiling them again with -enable-testing.
check: build
	swift test $(SWIFT_FLAGS) --disable-swift-testing --disable-testable-imports --skip ShapesModelTests --skip WholeModelGradientTests

# The bad-input corpus (scripts/bad_inputs.py): ~400 corrupt, truncated and hostile models,
# images, .npy files and command lines; no crash, hang, zero exit, half-written output,
# overwritten input or memory over its limit, and every message names what it should.
bad-inputs: build
	python3 scripts/bad_inputs.py --cnn-viz $(BIN) --shared $(SHARED)/data --out .build/bad-inputs

# libFuzzer over the ONNX loader, the image decoders, the .npy reader and the option parsers
# (scripts/fuzz.sh): FUZZ_SECONDS per fuzzer (make test runs 60 s each).
FUZZ_SECONDS ?= 600
fuzz:
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

# The fast tier under AddressSanitizer: a separate optimised build in .build-asan (a debug
# build runs the model tests an order of magnitude slower).
# Leak detection is off: every leak LeakSanitizer reports (117 KB in 1252 blocks) is allocated
# in XCTest's setUp machinery or inside Foundation's Data(contentsOf:) error path, not here.
test-asan: deps
	ASAN_OPTIONS=detect_leaks=0 swift test -c release --scratch-path .build-asan -Xswiftc -sanitize=address --disable-swift-testing --disable-testable-imports \
	  --skip ShapesModelTests --skip WholeModelGradientTests --skip RealExportTests

# A separate package depends on this repository's HEAD through a version-pinned git URL and
# runs Grad-CAM through the umbrella product CNNViz (examples/consumer).
package-check:
	bash scripts/package-check.sh

# Open the report for skimage_chelsea.png with SqueezeNet in Debian's headless Chromium: no
# console errors, no network requests, every image loaded, a screenshot that is not blank,
# and the file below 15 MiB. The activations page is checked the same way.
test-browser: build python-deps chromium
	$(BIN) report $(SHARED)/data/images/skimage_chelsea.png \
	  --model $(SHARED)/data/models/squeezenet1.1_fp32_from_winml_fp16.onnx \
	  --labels $(SHARED)/data/labels/imagenet_synset.txt --preprocess caffe --out .build/browser-check
	python3 scripts/browser_check.py .build/browser-check/skimage_chelsea/report.html \
	  --screenshot .build/browser-check/report.png
	$(BIN) activations $(SHARED)/data/images/skimage_chelsea.png \
	  --model $(SHARED)/data/models/squeezenet1.1_fp32_from_winml_fp16.onnx \
	  --preprocess caffe --out .build/browser-check/activations --channels 8
	python3 scripts/browser_check.py .build/browser-check/activations/activations.html \
	  --screenshot .build/browser-check/activations.png

# Debian's Chromium, for the browser checks.
chromium:
	@if ! dpkg -s chromium >/dev/null 2>&1; then \
	  echo "installing: chromium"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; \
	fi

# A dataset run's index page at 10,000 rows (20 real Grad-CAM records, copied through symlinks
# and merged) in headless Chromium: sorting, filters and paging, and index.html stays small.
# The channel report of `visualize`, with dataset examples, in headless Chromium: no console
# error, nothing fetched, every image decoded.
test-visualize-browser: build python-deps chromium
	$(BIN) visualize --layer relu4 --channels 0-3 --steps 16 --examples samples/images --top-k 4 --out .build/browser-check/visualize
	python3 scripts/browser_check.py .build/browser-check/visualize/visualize.html --screenshot .build/browser-check/visualize.png

test-index-browser: build python-deps chromium
	python3 scripts/index_browser_test.py --cnn-viz $(BIN) --out .build/index-browser

# The datasets issue's equivalence check on 200 scenes (DatasetRunTests runs it on 14 inputs in
# make test): one process, parallel shards, a killed-then-resumed shard and the job-array
# variables give the same files, records and aggregates.
dataset-equivalence: build
	python3 scripts/dataset_equivalence.py --cnn-viz $(BIN)

# examples/cluster: audit-job.yaml against the Kubernetes 1.30 schema (kubernetes-validate,
# strict), audit.slurm through bash -n and its #SBATCH lines, and the commands in both run on 8
# scenes, shard by shard from the job-array environment, then merged (paths mapped to a scratch
# folder, the embedded model instead of theirs).
test-cluster-examples: build python-deps
	python3 scripts/validate_cluster_examples.py --cnn-viz $(BIN)

conformance: build
	$(BIN) conformance $(SHARED)/onnx-node-tests
	$(BIN) conformance $(SHARED)/onnx-node-tests-next

# Speed and memory against onnxruntime (2 threads), side by side in one run. Not a test.
bench: build python-deps torch-deps
	@[ -f bench/models/vgg16.onnx ] || python3 bench/make_models.py bench/models
	@[ -f bench/models/efficientnet_b0.onnx ] || python3 bench/make_torchvision_models.py bench/models
	python3 bench/bench.py --cnn-viz $(BIN) --models bench/models --shared $(SHARED)
	python3 bench/bench_shapes.py --cnn-viz $(BIN)
	python3 bench/bench_diff.py --cnn-viz $(BIN) --shared $(SHARED)
	python3 bench/bench_exports.py --cnn-viz $(BIN)
	python3 bench/bench_dataset.py --cnn-viz $(BIN) --images 1000
	python3 bench/bench_quantized.py --cnn-viz $(BIN) --shared $(SHARED)
	python3 bench/bench_visualize.py --cnn-viz $(BIN) --shared $(SHARED) --photos

clean:
	rm -rf .build reports/demo
