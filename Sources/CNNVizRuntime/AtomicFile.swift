import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes whole files so that readers see the old file or the new one, never a part.
public enum AtomicFile {
    /// Writes `data` to a fresh temporary file beside `url`, flushes it, and renames it over
    /// `url`. Pitfall: rename(2) is atomic only within one file system, which is why the
    /// temporary file sits in the destination's directory and not in /tmp. On failure the
    /// temporary file is removed and `.writeFailed` names `url`.
    /// The files written by this process, in order, so that a command that fails after some
    /// outputs can remove them (`removeWrittenFiles`) instead of leaving a partial set.
    /// Recorded only in the command line's mode (`InputProtection.enable()`).
    nonisolated(unsafe) private static var journal = [URL]()
    private static let journalLock = NSLock()

    /// Removes every file this process has written (since `mark`, a `journalMark()`) and
    /// returns their paths: a dataset run drops the files of one failed image and keeps the rest.
    @discardableResult
    public static func removeWrittenFiles(since mark: Int = 0) -> [URL] {
        journalLock.lock()
        defer { journalLock.unlock() }
        let written = Array(journal[min(mark, journal.count)...])
        journal.removeSubrange(min(mark, journal.count)...)
        for url in written { unlink(url.path) }
        return written
    }

    /// The number of files written so far, for `removeWrittenFiles(since:)`.
    public static func journalMark() -> Int {
        journalLock.lock()
        defer { journalLock.unlock() }
        return journal.count
    }

    public static func write(_ data: Data, to url: URL) throws {
        try InputProtection.check(output: url)
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        func failure(_ what: String, _ code: Int32) -> CNNVizError {
            CNNVizError(.writeFailed, "cannot write \(url.lastPathComponent): \(what) (\(String(cString: strerror(code))))",
                        location: url.path)
        }
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw failure("cannot create a temporary file in \(directory.path); does the directory exist and is it writable?", errno)
        }
        var renamed = false
        defer { if !renamed { unlink(temporary.path) } }
        var isOpen = true
        defer { if isOpen { close(descriptor) } }
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let count = systemWrite(descriptor, base + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw failure("writing \(buffer.count) bytes failed after \(offset)", errno)
                }
                offset += count
            }
        }
        guard fsync(descriptor) == 0 else { throw failure("flushing to disk failed", errno) }
        isOpen = false
        guard close(descriptor) == 0 else { throw failure("closing the temporary file failed", errno) }
        guard rename(temporary.path, url.path) == 0 else {
            throw failure("cannot rename the temporary file over it", errno)
        }
        renamed = true
        if InputProtection.isEnabled {
            journalLock.lock()
            journal.append(url)
            journalLock.unlock()
        }
    }

    private static func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(descriptor, bytes, count)
        #elseif canImport(Musl)
        return Musl.write(descriptor, bytes, count)
        #else
        return Darwin.write(descriptor, bytes, count)
        #endif
    }
}
