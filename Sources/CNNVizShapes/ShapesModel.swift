import CNNVizImaging
import CNNVizRuntime
import Foundation

/// The shapes classifier: architecture, input convention and metadata.
///
/// conv5×5(3→16)–BN–ReLU–maxpool2 → conv3×3(16→32)–BN–ReLU–maxpool2 → conv3×3 dilated 2 (32→64)–BN–ReLU
/// → conv3×3 dilated 2 (64→64)–BN–ReLU → global average pool → dense(64→6): 64×64 RGB in,
/// 6 logits out, ≈ 62 k parameters, ≈ 24 M multiply-adds per image. The last ReLU (`relu4`,
/// 16×16, jump 4, receptive field 44 pixels, wider than the largest object) is where Grad-CAM looks.
///
/// Pitfalls, measured while choosing this:
/// - with a third pool the last map is 8×8, each cell 8 pixels wide, and Grad-CAM's peak
///   fell outside the object in 27% of scenes; 16×16 halves the cell;
/// - without dilation (receptive field 28 < the largest object's 36) units see only parts,
///   and the peak sat on a part near the outline (median 0.66 of the radius from the centre),
///   1–3 pixels outside thin shapes in 15% of scenes;
/// - global max pooling instead of average pooling learns faster but localises worse: each
///   channel fires at one spot, and Grad-CAM's pointing game fell from 92% to 73%.
///
/// Multi-label: each logit is an independent "this class is present" score, trained with
/// sigmoid binary cross-entropy on one- and two-object scenes. Chosen over softmax because a
/// two-object scene has two right answers; with softmax the two classes would compete for one
/// unit of probability, and a class-discriminative map for each would be asked of logits
/// trained to suppress each other. On a one-object scene the predicted class is the largest logit.
///
/// Input: RGB scaled to [0, 1], then (x − 0.5)/0.25, resized to exactly 64×64. All of this, and
/// the class names, travel in the ONNX metadata (`ModelMetadata`), so no flags are needed.
public enum ShapesModel {
    public static let inputName = "image"
    public static let outputName = "logits"
    public static let side = 64
    public static let targetLayer = "relu4"

    public static let preprocessing = Preprocessing(name: "shapes", resize: .exact(ImageSize(side)), channels: .rgb,
                                                    scale: 1.0 / 255, mean: [0.5], std: [0.25])

    /// The untrained network, weights He-uniform from `seed` (what epoch 0 is).
    public static func untrained(seed: UInt64) throws -> Model {
        var model = try NetworkBuilder(seed: seed)
            .conv(out: 16, kernel: 5, pad: 2).batchNorm().relu().maxPool(kernel: 2)
            .conv(out: 32, kernel: 3, pad: 1).batchNorm().relu().maxPool(kernel: 2)
            .conv(out: 64, kernel: 3, pad: 2, dilation: 2).batchNorm().relu()
            .conv(out: 64, kernel: 3, pad: 2, dilation: 2).batchNorm().relu()
            .globalAveragePool().flatten().dense(out: ShapeClass.allCases.count)
            .build(inputName: inputName, inputShape: [nil, 3, side, side], outputName: outputName, graphName: "shapes")
        model.metadata.merge(ModelMetadata.entries(labels: ShapeClass.names, preprocessing: preprocessing)) { $1 }
        model.metadata[ModelMetadata.scoresKey] = "sigmoid"
        return model
    }

    /// The model input for a batch of images, [N, 3, 64, 64].
    public static func batch(_ images: [RGBImage]) throws -> Tensor {
        var floats = [Float]()
        floats.reserveCapacity(images.count * 3 * side * side)
        for image in images { floats += try preprocessing.tensor(from: image).floats }
        return Tensor(shape: [images.count, 3, side, side], floats: floats)
    }

    /// Multi-hot targets [N, 6]: 1 for each class present.
    public static func targets(_ scenes: [Scene]) -> Tensor {
        let classes = ShapeClass.allCases.count
        var values = [Float](repeating: 0, count: scenes.count * classes)
        for (row, scene) in scenes.enumerated() {
            for object in scene.objects { values[row * classes + object.shape.rawValue] = 1 }
        }
        return Tensor(shape: [scenes.count, classes], floats: values)
    }
}
