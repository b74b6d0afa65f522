// A whole program that uses cnn-viz as a library: Grad-CAM with the embedded shapes model on
// one image, the overlay written as a PNG. `make package-check` builds it as a separate
// package that depends on cnn-viz through a version-pinned git URL.
import CNNViz
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: ExplainShapes IMAGE.png OUT.png\n".utf8))
    exit(2)
}
do {
    CNNVizEngine.configureProcess()                                   // worker threads, heap and BLAS settings
    let session = try Session(model: try EmbeddedShapesModel.model())
    let preprocessing = try ModelMetadata.preprocessing(of: session.model) ?? .imagenet
    let image = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: arguments[1]))
    let input = try preprocessing.tensor(from: image, for: session.graph.inputs[0])

    // The top class along axis 1 of the logits, then Grad-CAM for it at the default layer.
    let logits = try session.run([session.graph.inputs[0].name: input], outputs: ["logits"])["logits"]!
    let top = try ClassTarget.top(1, of: TargetItem(logits, name: "logits"))[0]
    let result = try CAMRunner(session: session).run(GradCAM(), input: input, request: CAMRequest(targets: [top]))

    let seen = try preprocessing.image(from: input)
    let figure = OverlayFigure(image: try Overlay.cam(result.map.reshaped([seen.height, seen.width]), on: seen),
                               caption: Caption(label: ShapeClass.names[top.index], score: result.scores[0], method: "gradcam",
                                                layer: result.layers[0]),
                               colorBar: ColorBar(colormap: .jet), scale: 3)
    try figure.picture.encoded(as: .png).write(to: URL(fileURLWithPath: arguments[2]))
    print("\(ShapeClass.names[top.index]) (logit \(result.scores[0])) at \(result.layers[0]) → \(arguments[2])")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
