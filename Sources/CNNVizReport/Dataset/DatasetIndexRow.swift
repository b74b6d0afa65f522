/// One image of a dataset run as its index page shows it. File references are relative to
/// the page (the run's output folder), so the page and its files move together.
public struct DatasetIndexRow: Codable, Sendable, Equatable {
    public var key: String
    /// "ok" or "failed".
    public var status: String
    public var reason: String?
    public var trueClass: Int?
    public var trueName: String?
    public var predictedClass: Int?
    public var predictedName: String?
    public var confidence: Float?
    public var correct: Bool?
    public var thumbnail: String?
    /// The image's HTML page.
    public var report: String?
    public var maps: [Map]

    /// One map of the image.
    public struct Map: Codable, Sendable, Equatable {
        public var method: String
        public var `class`: Int?
        public var label: String
        /// "label", "predicted" or "label,predicted" when a class word chose the class.
        public var role: String?
        public var score: Float
        public var thumbnail: String?
        public var picture: String?
        public var pointingHit: Bool?
        public var energyInside: Double?

        public init(method: String, class: Int?, label: String, role: String?, score: Float, thumbnail: String?, picture: String?,
                    pointingHit: Bool?, energyInside: Double?) {
            self.method = method
            self.class = `class`
            self.label = label
            self.role = role
            self.score = score
            self.thumbnail = thumbnail
            self.picture = picture
            self.pointingHit = pointingHit
            self.energyInside = energyInside
        }
    }

    public init(key: String, status: String, reason: String? = nil, trueClass: Int? = nil, trueName: String? = nil,
                predictedClass: Int? = nil, predictedName: String? = nil, confidence: Float? = nil, correct: Bool? = nil,
                thumbnail: String? = nil, report: String? = nil, maps: [Map] = []) {
        self.key = key
        self.status = status
        self.reason = reason
        self.trueClass = trueClass
        self.trueName = trueName
        self.predictedClass = predictedClass
        self.predictedName = predictedName
        self.confidence = confidence
        self.correct = correct
        self.thumbnail = thumbnail
        self.report = report
        self.maps = maps
    }
}
