import Foundation

/// Reading an input file whole, with the errors of `CNNVizError.unreadable`. Anything but a
/// regular file (a directory, /dev/zero, a socket) is refused before it is read: Foundation
/// would spin on an endless device or answer "You don't have permission".
public enum FileRead {
    public static func data(contentsOf url: URL, what: String, options: Data.ReadingOptions = []) throws -> Data {
        if let type = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType,
           type != .typeRegular, type != .typeSymbolicLink {
            throw CNNVizError.unreadable(what, at: url, cause: nil)
        }
        do { return try Data(contentsOf: url, options: options) } catch {
            throw CNNVizError.unreadable(what, at: url, cause: error)
        }
    }
}

extension CNNVizError {
    /// A `.fileNotReadable` error for `url` that says in plain words what is wrong: the file
    /// is missing (and whether its folder is), is a directory, is a device or pipe rather than
    /// a file, or may not be read by this user. `what` names the file's role ("the model file").
    /// Foundation's own text ("NSCocoaErrorDomain Code=256", or "You don't have permission"
    /// for /dev/zero read as root) is kept only as the typed `underlying` error.
    public static func unreadable(_ what: String, at url: URL, cause: (any Error)?) -> CNNVizError {
        let path = url.path
        var isDirectory: ObjCBool = false
        let reason: String
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            let folder = url.deletingLastPathComponent().path
            reason = FileManager.default.fileExists(atPath: folder) ? "there is no such file" : "there is no such file (nor its folder \(folder))"
        } else if isDirectory.boolValue {
            reason = "it is a directory, not a file"
        } else if let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType,
                  type != .typeRegular && type != .typeSymbolicLink {
            let kinds: [FileAttributeType: String] = [.typeCharacterSpecial: "a character device", .typeBlockSpecial: "a block device",
                                                      .typeSocket: "a socket"]
            reason = "it is \(kinds[type] ?? "a pipe or special file"), not a regular file"
        } else if !FileManager.default.isReadableFile(atPath: path) {
            reason = "this user may not read it (check its permissions)"
        } else {
            reason = "reading it failed: " + ((cause as NSError?)?.localizedFailureReason ?? cause.map { "\($0)" } ?? "unknown error")
        }
        var error = CNNVizError(.fileNotReadable, "cannot read \(what): \(reason)", location: path)
        error.underlying = cause
        error.file = path
        return error
    }
}
