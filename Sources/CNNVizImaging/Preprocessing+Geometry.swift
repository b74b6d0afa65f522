import COpenBLAS
import CNNVizRuntime

/// Where the model's pixels come from in the user's photo: the resize and centre crop of a
/// `Preprocessing`, as linear maps between a map at the model's resolution and one at the
/// photo's, per axis (see `ResamplingAxis` for the formulas).
///
/// `toOriginal` maps a model-resolution plane onto the photo: M_orig = U_h · M · U_wᵀ, with
/// R_h · M_orig · R_wᵀ = M exactly whenever the preprocessing shrinks both axes (the usual
/// case), so the photo's map, preprocessed again, is the model's map. Pixels whose centres
/// lie outside the crop are outside `seen`; the map is near zero there.
/// Pitfall: the map is resampled as numbers, not as a picture: an overlay drawn from it on
/// the photo is not the model-resolution overlay enlarged, and a map of high-frequency noise
/// (a raw gradient) can ring slightly between the model's pixel centres.
public struct PreprocessingGeometry: Sendable {
    /// The photo's size and the model input's.
    public let original: ImageSize
    public let model: ImageSize
    /// The photo's pixels (x and y ranges) whose centres the model saw.
    public let seenColumns: Range<Int>
    public let seenRows: Range<Int>
    let columns: ResamplingAxis
    let rows: ResamplingAxis

    /// The geometry of `preprocessing` on a photo of `original` pixels.
    public init(_ preprocessing: Preprocessing, original: ImageSize) throws {
        let model = try preprocessing.outputSize(forImage: original)
        let resized = try preprocessing.resizedSize(of: original) ?? original
        func offset(_ from: Int, _ to: Int) -> Int { Int((Double(from - to) / 2).rounded(.toNearestOrEven)) }
        columns = ResamplingAxis(originalSize: original.width, resizedSize: resized.width,
                                 cropOffset: offset(resized.width, model.width), modelSize: model.width)
        rows = ResamplingAxis(originalSize: original.height, resizedSize: resized.height,
                              cropOffset: offset(resized.height, model.height), modelSize: model.height)
        self.original = original
        self.model = model
        seenColumns = columns.seen
        seenRows = rows.seen
    }

    /// The photo's pixels (columns, rows) under the model's pixel window `columns` × `rows`
    /// (inclusive pixel indices, e.g. a receptive field's, clipped to the model's input).
    public func originalBox(columns: ClosedRange<Double>, rows: ClosedRange<Double>) -> (columns: Range<Int>, rows: Range<Int>) {
        (self.columns.originalPixels(coveringModel: columns.lowerBound, columns.upperBound),
         self.rows.originalPixels(coveringModel: rows.lowerBound, rows.upperBound))
    }

    /// A row-major plane of `model` size mapped onto the photo: original.height × original.width values.
    public func toOriginal(_ plane: [Float]) throws -> [Float] {
        try apply(plane, from: model, to: original, vertical: rows.inverse, horizontal: columns.inverse)
    }

    /// A row-major plane of the photo's size resized and cropped as the preprocessing does it,
    /// in Double arithmetic: model.height × model.width values.
    public func toModel(_ plane: [Float]) throws -> [Float] {
        try apply(plane, from: original, to: model, vertical: rows.forward, horizontal: columns.forward)
    }

    /// out = V · P · Hᵀ, with V (to.height × from.height) and H (to.width × from.width) row-major.
    private func apply(_ plane: [Float], from: ImageSize, to: ImageSize, vertical: [Double], horizontal: [Double]) throws -> [Float] {
        guard plane.count == from.width * from.height else {
            throw CNNVizError(.shapeMismatch, "a map of \(plane.count) values cannot be a \(from) plane")
        }
        let values = plane.map(Double.init)
        var across = [Double](repeating: 0, count: from.height * to.width)   // P · Hᵀ
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(from.height), Int32(to.width), Int32(from.width),
                    1, values, Int32(from.width), horizontal, Int32(from.width), 0, &across, Int32(to.width))
        var out = [Double](repeating: 0, count: to.height * to.width)       // V · (P · Hᵀ)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(to.height), Int32(to.width), Int32(from.height),
                    1, vertical, Int32(from.height), across, Int32(to.width), 0, &out, Int32(to.width))
        return out.map { Float($0) }
    }
}
