/// The EXAMPLES section of each subcommand's `--help`: real commands that run as written from
/// the repository's root (the embedded shapes model and samples/), or with the files they name
/// (photo.jpg, squeezenet1.1.onnx, synset.txt, x.npy: a [1, 3, 64, 64] float32 tensor).
/// `HelpExampleTests` runs every line in a folder that holds exactly those files; each exits 0
/// (`diff` may exit 3: some layer is outside the tolerance).
enum HelpExamples {
    static let byCommand: [String: [String]] = [
        "cnn-viz": [
            "cnn-viz gradcam samples/images/circle+star_1.png --top 2",
            "cnn-viz predict photo.jpg --model squeezenet1.1.onnx --preprocess caffe --labels synset.txt",
        ],
        "run": [
            "cnn-viz run --tensor x.npy --output logits --out run-out",
            "cnn-viz run --tensor x.npy --backward logits:3 --wrt input --out run-gradients --json",
        ],
        "conformance": ["cnn-viz conformance onnx/backend/test/data/node --filter test_relu"],
        "predict": [
            "cnn-viz predict samples/images/star_1.png",
            "cnn-viz predict photo.jpg --model squeezenet1.1.onnx --preprocess caffe --labels synset.txt --top 5",
        ],
        "summary": ["cnn-viz summary", "cnn-viz summary --model squeezenet1.1.onnx --json"],
        "activations": ["cnn-viz activations samples/images/star_1.png --layer relu4 --out activations"],
        "filters": ["cnn-viz filters --model squeezenet1.1.onnx --layer conv1_1 --out filters"],
        "visualize": ["cnn-viz visualize --layer relu4 --channels 0-3 --steps 32 --out visualize"],
        "report": ["cnn-viz report samples/images/star_1.png samples/images/circle+star_1.png --out report"],
        "gradcam": [
            "cnn-viz gradcam samples/images/circle+star_1.png --top 2",
            "cnn-viz gradcam photo.jpg --model squeezenet1.1.onnx --preprocess caffe --labels synset.txt --class \"tabby cat\" --method gradcam++",
            "cnn-viz gradcam photo.jpg --model squeezenet1.1.onnx --preprocess caffe --view model --aug-smooth --format png,svg",
        ],
        "saliency": [
            "cnn-viz saliency samples/images/circle+star_1.png --method occlusion --class star",
            "cnn-viz saliency photo.jpg --model squeezenet1.1.onnx --preprocess caffe --method integrated-gradients --steps 32",
            "cnn-viz saliency photo.jpg --model squeezenet1.1.onnx --preprocess caffe --method gradient --noise smoothgrad --samples 16 --sign absolute_value",
        ],
        "merge": [
            "cnn-viz merge reports/audit",
        ],
        "diff": [
            "cnn-viz diff samples/images/star_1.png samples/images/circle_1.png --html diff.html",
            "cnn-viz diff photo.jpg photo.jpg --model squeezenet1.1.onnx --preprocess caffe --simulate-fp16 --html fp16.html",
        ],
        "stats": ["cnn-viz stats samples/images --html stats.html"],
        "shapes": ["cnn-viz shapes generate --count 8 --out scenes", "cnn-viz shapes eval --count 16 --pairs 4 --method gradcam"],
        "shapes generate": ["cnn-viz shapes generate --count 8 --out scenes"],
        "shapes eval": ["cnn-viz shapes eval --count 16 --pairs 4 --method gradcam"],
        "train": ["cnn-viz train shapes --epochs 1 --scenes-per-epoch 64 --out tiny-shapes.onnx"],
        "train shapes": ["cnn-viz train shapes --epochs 1 --scenes-per-epoch 64 --out tiny-shapes.onnx"],
    ]

    /// `discussion` followed by the command's EXAMPLES section.
    static func discussion(_ command: String, _ discussion: String = "") -> String {
        let lines = byCommand[command, default: []].map { "  " + $0 }
        let section = "EXAMPLES:\n" + lines.joined(separator: "\n")
        return discussion.isEmpty ? section : discussion + "\n\n" + section
    }
}
