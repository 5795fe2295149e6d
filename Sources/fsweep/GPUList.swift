import Foundation
import ArgumentParser

/// GPU ids on the command line: indices (`0`) or device UUIDs (`GPU-3b1…`, `MIG-…`), as CUDA_VISIBLE_DEVICES takes them.
enum GPUList {
    /// `0,1,2` → ["0", "1", "2"]; an empty or malformed id is a validation error.
    static func parse(_ text: String) throws -> [String] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { try single(String($0)) }
    }

    /// One id: letters, digits, `-` and `_`.
    static func single(_ text: String) throws -> String {
        let id = text.trimmingCharacters(in: .whitespaces)
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ValidationError("expected GPU ids like 0,1 or GPU-UUIDs separated by commas, got '\(text)'")
        }
        return id
    }
}
