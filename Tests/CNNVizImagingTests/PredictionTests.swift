import CNNVizImaging
import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// Real pretrained models on real photos: the labels are ImageNet's and MNIST's ground truth.
final class PredictionTests: EngineTestCase {
    func topClass(_ session: Session, _ image: URL, _ preprocessing: Preprocessing) throws -> Int {
        let input = session.graph.inputs[0].name
        let tensor = try preprocessing.tensor(from: try ImageDecoder.decode(contentsOf: image))
        let output = try session.run([input: tensor])[session.graph.outputs[0].name]!.floats
        return output.indices.max { output[$0] < output[$1] }!
    }

    func testSqueezeNetFp32AndFp16PredictThePhotos() throws {
        let expectations = [("skimage_chelsea.png", 285), ("skimage_coffee.png", 967), ("winml_dog.jpg", 207)]
        for model in ["squeezenet1.1_fp32_from_winml_fp16.onnx", "winml_squeezenet1.1_fp16.onnx"] {
            let session = try Session(contentsOf: try TestData.model(model))
            for (image, expected) in expectations {
                XCTAssertEqual(try topClass(session, try TestData.image(image), .caffe), expected, "\(model) on \(image)")
            }
        }
    }

    func testMnistModelsReadTheDigits() throws {
        let expectations = [("winml_mnist_28.png", 8), ("wonnx_mnist_digit_0.jpg", 0), ("wonnx_mnist_digit_3.jpg", 3),
                            ("wonnx_mnist_digit_5.jpg", 5), ("wonnx_mnist_digit_7.jpg", 7)]
        for model in ["winml_mnist.onnx", "wonnx_opt-mnist.onnx"] {
            let session = try Session(contentsOf: try TestData.model(model))
            for (image, expected) in expectations {
                XCTAssertEqual(try topClass(session, try TestData.image(image), .mnist), expected, "\(model) on \(image)")
            }
        }
    }

    func testSynsetLabelsLoseTheirIds() throws {
        let labels = try ClassLabels.load(contentsOf: try TestData.require(TestData.shared.appendingPathComponent("data/labels/imagenet_synset.txt")))
        XCTAssertEqual(labels.count, 1000)
        XCTAssertEqual(labels[0], "tench, Tinca tinca")
        XCTAssertTrue(labels[285].hasPrefix("Egyptian cat"))
    }
}
