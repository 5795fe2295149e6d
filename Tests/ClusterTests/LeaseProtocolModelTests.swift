import Foundation
import Testing

/// The lease protocol's Promela model (`Sources/Cluster/Coordinator/LeaseProtocol.pml`) checked by spin:
/// exhaustively in three bounded configurations, and with deliberate bugs that spin must catch, so the
/// properties are known not to hold vacuously, and with witnesses that the reservation's steps are reached.
/// docs/lease-protocol.md says what the model covers.
@Suite(.serialized, .enabled(if: SpinModel.available, "spin not installed: apt-get install spin (and a C compiler, cc)"))
struct LeaseProtocolModelTests {
    @Test(arguments: SpinModel.configurations)
    func theProtocolKeepsItsSafetyPropertiesInEveryReachableState(_ configuration: SpinModel.Configuration) throws {
        let run = try SpinModel.verify(configuration.flags, exhaustive: true)
        #expect(run.assertionsChecked, "pan was built without assertion checking:\n\(run.output)")
        #expect(run.complete, "the search did not cover the whole state space:\n\(run.output)")
        #expect(run.errors == 0, "spin found a violation (\(run.violated.joined(separator: ", "))):\n\(run.output)")
        #expect(run.states >= configuration.atLeastStates,
                "only \(run.states) states: the model no longer reaches what it used to (\(configuration))")
    }

    @Test(arguments: SpinModel.brokenVariants)
    func aDeliberatelyBrokenProtocolIsCaught(_ variant: SpinModel.BrokenVariant) throws {
        let run = try SpinModel.verify(SpinModel.configurations[0].flags + variant.flags, allErrors: variant.allErrors)
        #expect(run.errors > 0, "spin found no violation in the broken variant:\n\(run.output)")
        #expect(run.violated.contains(variant.violates),
                "expected \(variant.violates) to be violated, pan reported \(run.violated):\n\(run.output.prefix(4000))")
    }

    /// The steps the reservation added are reachable in the two-trial configuration: pan finds a run to each
    /// (a model whose new steps never fire would check nothing about them).
    @Test(arguments: SpinModel.witnesses)
    func theReservationStepsAreReached(_ witness: SpinModel.Witness) throws {
        let run = try SpinModel.verify(SpinModel.configurations[1].flags + ["-DWITNESS=\(witness.number)"],
                                       depth: SpinModel.witnessDepth)
        #expect(run.violated.contains(witness.never),
                Comment(rawValue: "no run of at most \(SpinModel.witnessDepth) steps reaches \(witness.step) (\(witness.never) held); "
                    + "if the model changed, a longer run may: raise witnessDepth:\n\(run.output.prefix(4000))"))
    }
}

/// Runs spin and the verifier it generates (`pan`) in a scratch directory.
enum SpinModel {
    /// A bounded configuration (the model's -D flags) and the least number of states it must reach.
    struct Configuration: Sendable, CustomTestStringConvertible {
        var name: String
        var flags: [String]
        var atLeastStates: Int
        var testDescription: String { "\(name) \(flags.joined(separator: " "))" }
    }

    /// A deliberate bug (its -D flag) and the property spin must then report violated.
    struct BrokenVariant: Sendable, CustomTestStringConvertible {
        var flags: [String]
        var violates: String
        /// Count every violation (`pan -c0`) instead of stopping at the first: needed when another
        /// property is usually violated first.
        var allErrors = false
        var testDescription: String { "\(flags.joined(separator: " ")) violates \(violates)" }
    }

    /// A step of the model: `-DWITNESS=number` asserts `never`, that it does not happen.
    struct Witness: Sendable, CustomTestStringConvertible {
        var number: Int
        var never: String
        var step: String
        var testDescription: String { step }
    }

    /// The witnesses' search depth (pan -m): each step is reached in 7 to 10 steps, and a bounded search
    /// finds it in a second, where an unbounded depth-first one goes through millions of states first.
    static let witnessDepth = 16

    /// The state counts are those of the model as committed, rounded down: a much smaller count means a
    /// change cut behaviour out of the model.
    static let configurations: [Configuration] = [
        Configuration(name: "one trial leased three times", flags: ["-DNT=1", "-DMAXL=3", "-DQC=1", "-DQW=1"],
                      atLeastStates: 4_700_000),
        Configuration(name: "two trials", flags: ["-DNT=2", "-DMAXL=3", "-DQC=1", "-DQW=1"], atLeastStates: 36_000_000),
        Configuration(name: "reordering both ways", flags: ["-DNT=1", "-DMAXL=2", "-DQC=2", "-DQW=2"],
                      atLeastStates: 9_600_000),
    ]

    static let brokenVariants: [BrokenVariant] = [
        BrokenVariant(flags: ["-DBROKEN_FENCE"], violates: "c_fenced"),
        BrokenVariant(flags: ["-DBROKEN_DONE"], violates: "b_stored_once"),
        BrokenVariant(flags: ["-DBROKEN_RESET"], violates: "store_one_live_lease"),
        BrokenVariant(flags: ["-DBROKEN_RESET", "-DNO_STORE_CHECK"], violates: "a_one_holder", allErrors: true),
        BrokenVariant(flags: ["-DBROKEN_FORGET"], violates: "d_no_rerun"),
        BrokenVariant(flags: ["-DBROKEN_EARLY"], violates: "c_fenced"),
    ]

    static let witnesses: [Witness] = [
        Witness(number: 2, never: "no_promotion", step: "a reservation promoted"),
        Witness(number: 3, never: "no_early_send", step: "a promotion sent early, then a coordinator crash"),
        Witness(number: 4, never: "no_steal", step: "a reservation stolen by an idle worker"),
        Witness(number: 5, never: "no_orphan_result", step: "a result stored under an orphan lease"),
        Witness(number: 6, never: "no_adopt_skipping", step: "a READY adopting an orphan other than its lowest"),
    ]

    /// The model, found from this file's path (Tests/ClusterTests/ -> the package root).
    static var modelPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/Cluster/Coordinator/LeaseProtocol.pml").path
    }

    static let spin = executable("spin")
    static let cc = executable("cc")
    static var available: Bool { spin != nil && cc != nil }

    /// What one `pan` run reported.
    struct Run {
        var output: String
        var errors: Int
        var states: Int
        /// Names of the assertions pan reported violated (the model asserts named variables).
        var violated: [String]
        var complete: Bool
        var assertionsChecked: Bool
    }

    /// `spin -a`, `cc`, `./pan` for the model with `flags`; `allErrors` keeps searching after a violation;
    /// `depth` bounds the search (pan -m) to runs of that many steps; `exhaustive` builds pan for a search
    /// of the whole state space.
    static func verify(_ flags: [String], allErrors: Bool = false, depth: Int = 100_000, exhaustive: Bool = false) throws -> Run {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-spin-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        guard let spin, let cc else { throw SpinError(message: "spin or cc not found on PATH") }
        try run(spin, ["-a"] + flags + [modelPath], in: dir)
        // -O1 compiles in 3 s, -O2 in 7 s; -O2's pan is 15-25% faster, which pays only for a whole search.
        // MEMLIM (MB) stops a runaway search: the two-trial configuration needs 4.3 GB.
        try run(cc, [exhaustive ? "-O2" : "-O1", "-w", "-DSAFETY", "-DMEMLIM=6000", "-o", "pan", "pan.c"], in: dir)
        let output = try run(dir.appendingPathComponent("pan").path, ["-m\(depth)"] + (allErrors ? ["-c0"] : []), in: dir,
                             acceptFailure: true)
        return parse(output)
    }

    static func parse(_ output: String) -> Run {
        func number(before suffix: String) -> Int? {
            guard let line = output.split(separator: "\n").first(where: { $0.contains(suffix) }) else { return nil }
            return Int(line.split(separator: " ").first { Int($0) != nil } ?? "")
        }
        let errors = output.split(separator: "\n").compactMap { line -> Int? in
            guard let r = line.range(of: "errors: ") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }.first ?? -1
        let violated = output.split(separator: "\n").compactMap { line -> String? in
            guard let r = line.range(of: "assertion violated ") else { return nil }
            return line[r.upperBound...].split(separator: " ").first.map(String.init)
        }
        return Run(output: output, errors: errors, states: number(before: "states, stored") ?? 0,
                   violated: Array(Set(violated)).sorted(),
                   complete: !output.contains("Search not completed") && !output.contains("max search depth too small")
                       && !output.contains("MEMLIM"),
                   assertionsChecked: output.contains("assertion violations\t+"))
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], in dir: URL, acceptFailure: Bool = false) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = dir
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        guard acceptFailure || process.terminationStatus == 0 else {
            throw SpinError(message: "\((executable as NSString).lastPathComponent) \(arguments.joined(separator: " ")) "
                + "exited with \(process.terminationStatus):\n\(output.prefix(4000))")
        }
        return output
    }

    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    struct SpinError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
