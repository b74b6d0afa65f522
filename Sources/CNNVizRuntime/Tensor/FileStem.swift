/// A file-system-safe file stem for a tensor name (`fire9/concat_1` → `fire9_concat_1`): the
/// name every dump of one tensor per file uses (`activations`, `diff --against`).
///
/// Pitfall: two names that differ only in replaced characters (`a/b`, `a:b`) share a stem.
public func fileStem(for tensorName: String) -> String {
    String(tensorName.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
}
