import Foundation

extension Wire {
    /// The lease a message ends — a RESULT whose payload is complete (no CHUNK follows), or a FAIL — read by a scan
    /// of its body that builds nothing but that reference; nil for every other message and whenever the scan cannot
    /// tell. The coordinator sends a worker's next lease on it before it decodes the message (`Coordinator.leaseAhead`):
    /// on a cache left cold by a trial's worth of idling, the Codable decode alone took 125–170 µs, as long as half the
    /// LEASE's round trip (`BENCHMARKS.md`, Cluster). The full decode still decides what the message does.
    public static func endedLease(_ frames: [[UInt8]]) -> LeaseRef? {
        guard case .success(let command) = framing(frames), command == .result || command == .fail else { return nil }
        var scan = EndedLeaseScan(frames[2])
        guard scan.body(), let lease = scan.lease else { return nil }
        return command == .fail || scan.payloadBytes == frames[3].count ? lease : nil
    }
}

/// A forward-only reader of the two fields `Wire.endedLease` needs from a RESULT or FAIL body: `lease` (`leaseID`,
/// `trialID`) and `payloadBytes`. Every other value is skipped; anything unexpected (an escaped key or trial id, a
/// non-integer id, nesting deeper than `maxDepth`) makes it give up rather than guess.
struct EndedLeaseScan {
    private let bytes: [UInt8]
    private var i = 0
    private(set) var lease: LeaseRef?
    private(set) var payloadBytes: Int?
    private static let maxDepth = 64

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Reads the top-level object; false when it is not one the scan understands.
    mutating func body() -> Bool {
        object { scan, key in
            if key.elementsEqual("lease".utf8) { return scan.leaseObject() }
            guard key.elementsEqual("payloadBytes".utf8) else { return scan.skipValue(depth: 1) }
            scan.payloadBytes = scan.integer().map(Int.init)
            return scan.payloadBytes != nil
        } && atEnd()
    }

    private mutating func leaseObject() -> Bool {
        var leaseID: Int64?, trialID: String?
        guard object({ scan, key in
            if key.elementsEqual("leaseID".utf8) { leaseID = scan.integer(); return leaseID != nil }
            guard key.elementsEqual("trialID".utf8) else { return scan.skipValue(depth: 2) }
            trialID = scan.plainString().map { String(decoding: $0, as: UTF8.self) }
            return trialID != nil
        }), let leaseID, let trialID else { return false }
        lease = LeaseRef(trialID: trialID, leaseID: leaseID)
        return true
    }

    /// `{ "key": value, … }`, calling `field` to read or skip each value. The keys of the objects read must be plain;
    /// those of skipped ones may be anything (`field` then gets no key).
    private mutating func object(skipped: Bool = false, _ field: (inout EndedLeaseScan, ArraySlice<UInt8>) -> Bool) -> Bool {
        guard take(UInt8(ascii: "{")) else { return false }
        if take(UInt8(ascii: "}")) { return true }
        repeat {
            skipSpace()
            let key = skipped ? (skipString() ? [] : nil) : plainString()
            guard let key, take(UInt8(ascii: ":")), field(&self, key) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}"))
    }

    private mutating func skipValue(depth: Int) -> Bool {
        guard depth < Self.maxDepth else { return false }
        skipSpace()
        guard i < bytes.count else { return false }
        switch bytes[i] {
        case UInt8(ascii: "\""): return skipString()
        case UInt8(ascii: "{"): return object(skipped: true) { scan, _ in scan.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            i += 1
            if take(UInt8(ascii: "]")) { return true }
            repeat { guard skipValue(depth: depth + 1) else { return false } } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]"))
        default:
            // A number or a literal: its characters, checked by the full decode.
            let start = i
            while i < bytes.count, Self.isAtomByte(bytes[i]) { i += 1 }
            return i > start
        }
    }

    private static func isAtomByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
            || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b == UInt8(ascii: "E")
    }

    /// A string's bytes when it has no escapes or control characters; nil otherwise.
    private mutating func plainString() -> ArraySlice<UInt8>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = i
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; return bytes[start..<i - 1] }
            if b == UInt8(ascii: "\\") || b < 0x20 { return nil }
            i += 1
        }
        return nil
    }

    private mutating func skipString() -> Bool {
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return false }
        i += 1
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\""): i += 1; return true
            case UInt8(ascii: "\\"): i += 2
            default: i += 1
            }
        }
        return false
    }

    /// A non-negative integer of at most 18 digits (ids and byte counts), not followed by a fraction or exponent.
    private mutating func integer() -> Int64? {
        skipSpace()
        var value: Int64 = 0, digits = 0
        while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9"), digits < 18 {
            value = value * 10 + Int64(bytes[i] - UInt8(ascii: "0"))
            digits += 1
            i += 1
        }
        guard digits > 0, i >= bytes.count || !Self.isAtomByte(bytes[i]) else { return nil }
        return value
    }

    private mutating func take(_ b: UInt8) -> Bool {
        skipSpace()
        guard i < bytes.count, bytes[i] == b else { return false }
        i += 1
        return true
    }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0a || bytes[i] == 0x0d || bytes[i] == 0x09 { i += 1 }
    }

    private mutating func atEnd() -> Bool {
        skipSpace()
        return i == bytes.count
    }
}
