import CNNVizImaging
import CNNVizRuntime
import Foundation

/// Dataset examples (OpenAI Microscope's): for each channel of a layer, the real images that
/// excite it most, each cropped to the receptive field of its strongest position.
///
/// Definition: each image offers one example per channel, its largest activation (the first
/// position in row-major order on ties); a channel's top k are the k largest of those over
/// the images (the earlier image on ties). One per image, so that the k crops are k images,
/// not k neighbouring positions of one blob. The crop is the position's theoretical receptive
/// field (`ReceptiveField`), clipped to the model's input, mapped back through the resize and
/// crop of the preprocessing onto the original photo (`PreprocessingGeometry`).
///
/// The images stream: one is decoded, run and dropped before the next, and each channel keeps
/// only its k best, so memory does not grow with the folder.
public struct ChannelExamples {
    public struct Example: Encodable, Sendable, Equatable {
        public var image: String
        public var value: Float
        /// The unit's position in the layer.
        public var row: Int
        public var column: Int
        /// The receptive field on the original photo, pixels [x0, x1) × [y0, y1).
        public var box: [Int]
    }

    public let session: Session
    public let layer: String
    public let preprocessing: Preprocessing
    public var count = 9
    /// Called with each image that fails (decoding, size) and its error; rethrow to stop.
    public var onImageError: (String, Error) throws -> Void = { throw $1 }

    public init(session: Session, layer: String, preprocessing: Preprocessing) throws {
        self.session = session
        self.layer = try session.resolveTensorName(layer)
        self.preprocessing = preprocessing
    }

    /// The top `count` examples of each channel, best first.
    public func find(channels: [Int], images: [String]) throws -> [[Example]] {
        var best = [[Example]](repeating: [], count: channels.count)
        var fields = [[Int]: ReceptiveField?]()  // per input shape; nil inside: the layer has none
        for (index, path) in images.enumerated() {
            let activation: Tensor, field: ReceptiveField?, geometry: PreprocessingGeometry
            do {
                let image = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: path))
                let input = try preprocessing.tensor(from: image, for: session.graph.inputs[0])
                activation = try required(session.run([session.graph.inputs[0].name: input], outputs: [layer])[layer], layer)
                if let cached = fields[input.shape] {
                    field = cached
                } else {
                    field = try Self.field(of: layer, session: session, inputShape: input.shape)
                    fields[input.shape] = field
                }
                geometry = try PreprocessingGeometry(preprocessing, original: ImageSize(width: image.width, height: image.height))
            } catch {
                try onImageError(path, error)
                continue
            }
            guard activation.rank == 4 else {
                throw CNNVizError(.invalidArgument, "dataset examples need a [N, C, H, W] layer; '\(layer)' has shape \(activation.shape)").with(tensor: layer)
            }
            let (layerChannels, height, width) = (activation.shape[1], activation.shape[2], activation.shape[3])
            let values = activation.floats, plane = height * width
            for (k, channel) in channels.enumerated() {
                guard channel < layerChannels else {
                    throw CNNVizError(.invalidArgument, "channel \(channel) is out of range 0..<\(layerChannels) of '\(layer)'").with(tensor: layer)
                }
                var strongest = 0
                for p in 1..<plane where values[channel * plane + p] > values[channel * plane + strongest] { strongest = p }
                let value = values[channel * plane + strongest]
                // Insert after every entry at least as large: earlier images win ties.
                let position = best[k].firstIndex { $0.value < value } ?? best[k].count
                guard position < count else { continue }
                let (row, column) = (strongest / width, strongest % width)
                best[k].insert(Example(image: path, value: value, row: row, column: column, box: Self.box(row: row, column: column, field: field, geometry: geometry)),
                               at: position)
                if best[k].count > count { best[k].removeLast() }
            }
        }
        return best
    }

    /// The unit's receptive field on the original photo as [x0, y0, x1, y1]; zeros when the
    /// layer has no 2-D receptive field.
    static func box(row: Int, column: Int, field: ReceptiveField?, geometry: PreprocessingGeometry) -> [Int] {
        guard let field, field.axes.count == 2 else { return [0, 0, 0, 0] }
        let (columns, rows) = geometry.originalBox(columns: field.axes[1].window(ofUnit: column), rows: field.axes[0].window(ofUnit: row))
        return [columns.lowerBound, rows.lowerBound, columns.upperBound, rows.upperBound]
    }

    /// The receptive field of `layer` for an input of this shape.
    public static func field(of layer: String, session: Session, inputShape: [Int]) throws -> ReceptiveField? {
        let summary = try ModelSummary.summary(for: session, inputShapes: [session.graph.inputs[0].name: inputShape])
        return summary.layers.first { $0.name == layer }?.receptiveField
    }

    private func required(_ tensor: Tensor?, _ name: String) throws -> Tensor {
        guard let tensor else { throw CNNVizError(.unknownTensor, "no tensor '\(name)' in the model").with(tensor: name) }
        return tensor
    }
}
