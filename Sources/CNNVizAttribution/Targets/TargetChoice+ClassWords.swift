import CNNVizRuntime

/// The class words of a dataset run: `--class label` (the manifest's true label),
/// `--class predicted` (the model's top-1) and `--class label,predicted` (both: a
/// misclassified image shows what the model saw and what it missed).
extension TargetChoice {
    /// What each explained class is to the image.
    public enum ClassRole: String, Codable, Sendable {
        case label, predicted
        /// The true label, which the model also predicted (one map for both words).
        case labelAndPredicted = "label,predicted"
    }

    /// Whether `entry` (one `--class` value) consists of class words only.
    public static func isClassWords(_ entry: String) -> Bool {
        let parts = entry.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return !parts.isEmpty && parts.allSatisfy { ClassRole(rawValue: $0) != nil }
    }

    /// Whether any `--class` entry reads the manifest's label.
    public var needsTrueLabel: Bool {
        classes.contains { Self.isClassWords($0) && $0.lowercased().contains("label") }
    }

    /// The choice for one image with its class words replaced by class indices: `label` by
    /// `trueClass`, `predicted` by `predicted`; each word becomes its own entry (its own map),
    /// and a word naming the class another already names is dropped, its role merged. The
    /// roles run parallel to the returned choice's `classes` (nil for an entry given as a
    /// class). Throws, naming `image`, when a word's class is unknown.
    public func substitutingClassWords(trueClass: Int?, predicted: Int?, image: String) throws -> (choice: TargetChoice, roles: [ClassRole?]) {
        var choice = self, roles = [ClassRole?]()
        choice.classes = []
        for entry in classes {
            guard Self.isClassWords(entry) else {
                choice.classes.append(entry)
                roles.append(nil)
                continue
            }
            for word in entry.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
                let role = ClassRole(rawValue: word)!
                let index: Int
                switch role {
                case .label, .labelAndPredicted:
                    guard let trueClass else {
                        throw CNNVizError(.invalidArgument, "--class label needs the image's true label, and the manifest gives none for it", location: image)
                    }
                    index = trueClass
                case .predicted:
                    guard let predicted else {
                        throw CNNVizError(.invalidArgument, "--class predicted needs a class output; the target tensor has no class axis \(classAxis)", location: image)
                    }
                    index = predicted
                }
                if let earlier = choice.classes.firstIndex(of: String(index)), let other = roles[earlier], other != role {
                    roles[earlier] = .labelAndPredicted
                } else if !choice.classes.contains(String(index)) {
                    choice.classes.append(String(index))
                    roles.append(role)
                }
            }
        }
        return (choice, roles)
    }
}
