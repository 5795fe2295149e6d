import Foundation
import Testing
@testable import Cluster

@Suite struct CurveTests {
    @Test func zapAcceptsOnlyAuthorizedKeys() throws {
        let good = try CurveKeyPair.generate(), bad = try CurveKeyPair.generate()
        let handler = ZAPHandler(authorized: AuthorizedKeys(keys: [good.publicKey: "alice"]))
        func request(_ key: String) -> [[UInt8]] {
            var raw = [UInt8](repeating: 0, count: 32)
            // Decode Z85 via libzmq round trip: derive binary from the text key.
            raw = z85Decode(key)
            return [Array("1.0".utf8), Array("7".utf8), Array("fsweep".utf8), Array("127.0.0.1".utf8), [], Array("CURVE".utf8), raw]
        }
        let ok = handler.handle(request(good.publicKey))
        #expect(ok.accepted && ok.client == "alice")
        #expect(String(decoding: ok.reply[2], as: UTF8.self) == "200")
        #expect(ok.reply[1] == Array("7".utf8))
        let no = handler.handle(request(bad.publicKey))
        #expect(!no.accepted)
        #expect(String(decoding: no.reply[2], as: UTF8.self) == "400")
        let plain = handler.handle([Array("1.0".utf8), Array("8".utf8), [], [], [], Array("NULL".utf8)])
        #expect(!plain.accepted)
    }

    @Test func keyPairDerivesPublicFromSecret() throws {
        let pair = try CurveKeyPair.generate()
        #expect(CurveKeyPair.isZ85Key(pair.publicKey) && CurveKeyPair.isZ85Key(pair.secretKey))
        #expect(try CurveKeyPair.fromSecret(pair.secretKey) == pair)
    }
}

/// Independent Z85 decoder (ZeroMQ RFC 32) used as the test's oracle for the ZAP credential frame.
func z85Decode(_ s: String) -> [UInt8] {
    let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")
    var index: [Character: UInt32] = [:]
    for (i, c) in alphabet.enumerated() { index[c] = UInt32(i) }
    let chars = Array(s)
    var out: [UInt8] = []
    for chunk in stride(from: 0, to: chars.count, by: 5) {
        var value: UInt32 = 0
        for c in chars[chunk..<chunk + 5] { value = value &* 85 &+ index[c]! }
        out += [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }
    return out
}
