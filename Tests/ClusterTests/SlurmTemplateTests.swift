import Foundation
import Testing

/// The Slurm templates against a real single-node Slurm (`cluster/slurm/test-local.sh` starts munge, slurmctld
/// and slurmd in a temporary directory): a sweep runs to completion under a coordinator job and a worker array,
/// a task submitted after the end exits at once, and a cancelled worker task's trial is re-run by another task.
@Suite(.serialized) struct SlurmTemplateTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let hasSlurm = ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch"]
        .allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }

    @Test(.enabled(if: SlurmTemplateTests.hasSlurm, "slurm-wlm and munge are not installed (apt-get install slurm-wlm munge)"))
    func templatesRunASweepAndReleaseTheirAllocations() throws {
        let script = SlurmTemplateTests.repo + "/cluster/slurm/test-local.sh"
        let run = try Harness.Child(executable: "/bin/bash", [script, Harness.fsweep], cwd: SlurmTemplateTests.repo)
        defer { run.kill9() }
        let status = run.wait(540)
        #expect(status == 0, "test-local.sh:\n\(run.log)")
        #expect(run.log.contains("3/3 trial") && run.log.contains("passed"))
    }
}
