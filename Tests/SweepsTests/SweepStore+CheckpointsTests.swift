import Foundation
import GRDB
import Testing
@testable import Sweeps
import Trials

/// `runner.save_model`: leases ask for the weights, `complete` writes them as `trials/<id>/model.safetensors`
/// (and only then), keeps them out of the `arrays` table, and never lets a refused result touch the file.
@Suite struct SweepStoreCheckpointsTests {
    static func spec(saveModel: Bool) -> String {
        """
        version: 1
        name: ck
        fixed:
          dataset: {name: synthetic, image_size: 8}
          model: {arch: convactually, width: 4}
          probes: []
        grid:
          train.lr: [0.1, 0.2]
        runner: {max_attempts: 2, save_model: \(saveModel)}
        """
    }

    static let weights = [NamedArray(name: "model.fc.weight", shape: [2, 3], data: [1, -2, 3, 0.5, 0, 7]),
                          NamedArray(name: "model.fc.bias", shape: [2], data: [0.25, -1])]
    static let meta = ["arch": "convactually", "depth": "1"]

    static func withWeights(_ acc: Double) -> TrialResult {
        var r = result(acc)
        r.arrays += weights
        r.modelMetadata = meta
        return r
    }

    /// The header and data of a safetensors file, read independently of the writer (JSON + raw floats).
    static func readSafetensors(_ url: URL) throws -> (header: [String: Any], floats: (String) -> [Float]) {
        let blob = try Data(contentsOf: url)
        let n = Int(blob.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        let header = try #require(try JSONSerialization.jsonObject(with: blob.subdata(in: 8..<(8 + n))) as? [String: Any])
        let body = blob.subdata(in: (8 + n)..<blob.count)
        return (header, { name in
            let offs = (header[name] as? [String: Any])?["data_offsets"] as? [Int] ?? [0, 0]
            return NamedArray.floats(fromLittleEndian: body.subdata(in: offs[0]..<offs[1]))
        })
    }

    @Test func saveModelTravelsWithTheLeaseAndTheStoreWritesTheFileBeforeTheResult() throws {
        let store = try makeStore(Self.spec(saveModel: true))
        #expect(try store.savesModels())
        let lease = try #require(try store.grantLease(to: w1))
        #expect(lease.saveModel == true && lease.request.saveModel)
        #expect(try store.recordedLeases().first?.saveModel == true)
        #expect(try store.complete(trialID: lease.trialID, leaseID: lease.id, owner: w1, result: Self.withWeights(0.7)) == .stored)

        let url = store.checkpointURL(trialID: lease.trialID)
        #expect(url.path.hasSuffix("trials/\(lease.trialID)/model.safetensors"))
        let (header, floats) = try Self.readSafetensors(url)
        #expect(header["__metadata__"] as? [String: String] == Self.meta)
        #expect(Set(header.keys) == ["__metadata__", "fc.weight", "fc.bias"])
        #expect(floats("fc.weight") == [1, -2, 3, 0.5, 0, 7] && floats("fc.bias") == [0.25, -1])
        // The weights are in the file, not in the arrays table; everything else is stored as before.
        #expect(try store.arrays(trialID: lease.trialID).map(\.name) == ["profile"])
        #expect(try store.records().first { $0.id == lease.trialID }?.metrics["test_accuracy"] == 0.7)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        #expect(leftovers == ["model.safetensors"], "no temporary file stays behind")
    }

    @Test func withoutSaveModelNoFileAndLeasesDoNotAsk() throws {
        let store = try makeStore(Self.spec(saveModel: false))
        #expect(try !store.savesModels())
        let lease = try #require(try store.grantLease(to: w1))
        #expect(lease.saveModel == nil && !lease.request.saveModel)
        #expect(try store.complete(trialID: lease.trialID, leaseID: lease.id, owner: w1, result: result(0.5)) == .stored)
        #expect(!store.hasCheckpoint(trialID: lease.trialID))
        #expect(!FileManager.default.fileExists(atPath: store.directory.appendingPathComponent("trials").path))
    }

    @Test func aRefusedResultWritesNoCheckpoint() throws {
        let store = try makeStore(Self.spec(saveModel: true))
        let lease = try #require(try store.grantLease(to: w1))
        #expect(try store.complete(trialID: lease.trialID, leaseID: lease.id, owner: w2, result: Self.withWeights(0.1)) != .stored)
        #expect(!store.hasCheckpoint(trialID: lease.trialID))
        // The owner's result stores the file; a duplicate later does not rewrite it.
        #expect(try store.complete(trialID: lease.trialID, leaseID: lease.id, owner: w1, result: Self.withWeights(0.7)) == .stored)
        let first = try Data(contentsOf: store.checkpointURL(trialID: lease.trialID))
        var other = Self.withWeights(0.7)
        other.arrays = other.arrays.map { NamedArray(name: $0.name, shape: $0.shape, data: $0.data.map { $0 + 1 }) }
        #expect(try store.complete(trialID: lease.trialID, leaseID: lease.id, owner: w1, result: other) == .duplicate)
        #expect(try Data(contentsOf: store.checkpointURL(trialID: lease.trialID)) == first)
    }

    @Test func saveModelMustBeABoolean() throws {
        let bad = Self.spec(saveModel: true).replacingOccurrences(of: "save_model: true", with: "save_model: yes please")
        let e = #expect(throws: SweepError.self) { try SweepSpec(yaml: bad, file: "s.yaml") }
        #expect(e?.message.contains("runner.save_model") == true)
        #expect(try SweepSpec(yaml: Self.spec(saveModel: true)).runner.saveModel)
        #expect(try !SweepSpec(yaml: Self.spec(saveModel: false)).runner.saveModel)
    }

    @Test func addedProbesAreRecognisedAndTheRefusalNamesTheCommand() throws {
        let dir = tempDir()
        _ = try makeStore(Self.spec(saveModel: true), in: dir)  // released at once: its lock is free again
        let old = try SweepSpec(yaml: Self.spec(saveModel: true)).fixedCanonical
        let withProbe = Self.spec(saveModel: true).replacingOccurrences(of: "probes: []", with: "probes: [{name: lfc_hfc}]")
        let new = try SweepSpec(yaml: withProbe).fixedCanonical
        #expect(SweepStore.addedProbes(stored: old, now: new) == ["lfc_hfc"])
        #expect(SweepStore.addedProbes(stored: new, now: old) == nil, "a removed probe is not an addition")
        let otherChange = withProbe.replacingOccurrences(of: "width: 4", with: "width: 8")
        #expect(SweepStore.addedProbes(stored: old, now: try SweepSpec(yaml: otherChange).fixedCanonical) == nil)

        let e = #expect(throws: SweepError.self) {
            _ = try SweepStore.create(in: try DirectoryLock(directory: dir), spec: try SweepSpec(yaml: withProbe))
        }
        #expect(e?.message.contains("fsweep probe \(dir.path) --probe lfc_hfc") == true)
    }

    @Test func aSpecThatOnlyAddsProbesResumesWithoutNewTrials() throws {
        let dir = tempDir()
        _ = try makeStore(Self.spec(saveModel: true), in: dir)  // released at once: its lock is free again
        let withProbe = Self.spec(saveModel: true).replacingOccurrences(of: "probes: []", with: "probes: [lfc_hfc]")
        let lock = try DirectoryLock(directory: dir)
        let resumed = try #require(try SweepStore.resumeWithAddedProbes(in: lock, spec: try SweepSpec(yaml: withProbe)))
        #expect(resumed.probes == ["lfc_hfc"])
        #expect(try resumed.store.counts().total == 2)
        // Nothing else qualifies: an unchanged spec, a grown grid, another change, a sweep without checkpoints.
        #expect(try SweepStore.resumeWithAddedProbes(in: lock, spec: try SweepSpec(yaml: Self.spec(saveModel: true))) == nil)
        let grown = withProbe.replacingOccurrences(of: "[0.1, 0.2]", with: "[0.1, 0.2, 0.3]")
        #expect(try SweepStore.resumeWithAddedProbes(in: lock, spec: try SweepSpec(yaml: grown)) == nil)
        let other = withProbe.replacingOccurrences(of: "width: 4", with: "width: 8")
        #expect(try SweepStore.resumeWithAddedProbes(in: lock, spec: try SweepSpec(yaml: other)) == nil)
        withExtendedLifetime(lock) {}

        let plainDir = tempDir()
        _ = try makeStore(Self.spec(saveModel: false), in: plainDir)
        let plain = Self.spec(saveModel: false).replacingOccurrences(of: "probes: []", with: "probes: [lfc_hfc]")
        #expect(try SweepStore.resumeWithAddedProbes(in: try DirectoryLock(directory: plainDir), spec: try SweepSpec(yaml: plain)) == nil)
        #expect(try SweepStore.resumeWithAddedProbes(in: try DirectoryLock(directory: tempDir()), spec: try SweepSpec(yaml: plain)) == nil)
    }
}
