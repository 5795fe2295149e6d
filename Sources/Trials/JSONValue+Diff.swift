import Foundation

extension JSONValue {
    /// The leaves that differ between `old` and `self`, one line each as `path: old → new` (`train.epochs: 5 → 6`,
    /// `model.width: 16 → (absent)`), sorted by path. Objects are compared key by key; arrays and scalars as
    /// whole values — a changed probe list reads as one line, not a list of index shifts.
    public func differences(from old: JSONValue, prefix: String = "") -> [String] {
        if self == old { return [] }
        guard case .object(let new) = self, case .object(let was) = old else {
            return ["\(prefix.isEmpty ? "(top level)" : prefix): \(old.display) → \(display)"]
        }
        var out: [String] = []
        for key in Set(new.keys).union(was.keys).sorted() {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            switch (was[key], new[key]) {
            case let (a?, b?): out += b.differences(from: a, prefix: path)
            case let (a?, nil): out.append("\(path): \(a.display) → (absent)")
            case let (nil, b?): out.append("\(path): (absent) → \(b.display)")
            case (nil, nil): break
            }
        }
        return out
    }
}
