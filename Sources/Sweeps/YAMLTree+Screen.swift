import Foundation
// libyaml as Yams builds it. Yams exposes no event API and its composer resolves every alias while it
// builds nodes, so the screen below reads libyaml's events itself, from the same copy Yams links.
import CYaml

extension YAMLTree {
    /// Deepest nesting a sweep file may use; the real shape needs about six levels (fixed.probes[0].params…),
    /// and the composer recurses once per level.
    static let maxDepth = 32

    /// Reads the document's parser events once, without building any node, and refuses what could make
    /// composing it unbounded: anchors and aliases (`&a` / `*a`, where a few lines can stand for billions
    /// of nodes) and nesting deeper than `maxDepth`. Time and memory are linear in the text. The error names
    /// the file, the key path and the line. Syntax errors are left to the composer, which reports them with
    /// context.
    static func screen(_ text: String, file: String) throws {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw SweepError(.invalidSpec, "\(file): cannot start the YAML parser (out of memory)")
        }
        defer { yaml_parser_delete(&parser) }
        try bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var walk = EventPath()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                func refuse(_ what: String) -> SweepError {
                    let path = walk.nextPath
                    return SweepError(.invalidSpec, "\(file): \(path.isEmpty ? "top level" : path): \(what) (line \(line))")
                }
                func name(_ anchor: UnsafeMutablePointer<yaml_char_t>?) -> String {
                    anchor.map { String(cString: $0) } ?? ""
                }
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return
                case YAML_ALIAS_EVENT:
                    throw refuse("YAML aliases (*\(name(event.data.alias.anchor))) are not supported; write the value out in full")
                case YAML_SCALAR_EVENT:
                    if let a = event.data.scalar.anchor {
                        throw refuse("YAML anchors (&\(name(a))) are not supported; write the value out in full")
                    }
                    walk.scalar(String(cString: event.data.scalar.value))
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let isMap = event.type == YAML_MAPPING_START_EVENT
                    if let a = isMap ? event.data.mapping_start.anchor : event.data.sequence_start.anchor {
                        throw refuse("YAML anchors (&\(name(a))) are not supported; write the value out in full")
                    }
                    guard walk.depth < maxDepth else {
                        throw refuse("nested more than \(maxDepth) levels deep; a sweep file needs a handful")
                    }
                    walk.open(map: isMap)
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    walk.close()
                default:
                    break
                }
            }
        }
    }
}

/// The key path of the node the next event starts, tracked from events alone (for error messages).
private struct EventPath {
    private enum Frame {
        case map(path: String, key: String?)   // key == nil: the next node is a key
        case list(path: String, index: Int)
    }
    private var frames: [Frame] = []

    var depth: Int { frames.count }

    /// Dotted path of the node that starts next (a key's path is its map's path).
    var nextPath: String {
        switch frames.last {
        case nil: return ""
        case .map(let path, let key?): return path.isEmpty ? key : "\(path).\(key)"
        case .map(let path, nil): return path
        case .list(let path, let index): return "\(path)[\(index)]"
        }
    }

    mutating func scalar(_ value: String) {
        if case .map(let path, nil) = frames.last {
            frames[frames.count - 1] = .map(path: path, key: value)
        } else {
            finishNode()
        }
    }

    mutating func open(map: Bool) {
        let path = nextPath
        frames.append(map ? .map(path: path, key: nil) : .list(path: path, index: 0))
    }

    mutating func close() {
        frames.removeLast()
        finishNode()
    }

    /// A value node ended: its map waits for the next key, its list moves to the next index.
    private mutating func finishNode() {
        switch frames.last {
        case .map(let path, _?): frames[frames.count - 1] = .map(path: path, key: nil)
        case .list(let path, let index): frames[frames.count - 1] = .list(path: path, index: index + 1)
        // a complex (non-scalar) key ended; the value that follows has no name to show
        case .map(let path, nil): frames[frames.count - 1] = .map(path: path, key: "?")
        case nil: break
        }
    }
}
