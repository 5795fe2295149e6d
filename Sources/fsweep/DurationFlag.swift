import ArgumentParser
import Sweeps

/// Durations on the command line use the sweep file's one syntax — `90s`, `30m`, `2h`, `1d` or a number of
/// seconds — so every time flag reads like `runner.time_limit`. Use as `@Option(transform: DurationFlag.seconds)`.
enum DurationFlag {
    /// Seconds in `text`, or a validation error that shows the accepted forms.
    static func seconds(_ text: String) throws -> Double {
        guard let s = SweepSpec.duration(text: text) else {
            throw ValidationError("expected a duration like 90s, 30m, 2h, 1d or a number of seconds, got '\(text)'")
        }
        return s
    }

    /// Like `seconds`, and `0` means none (a grace period that does not wait).
    static func secondsOrZero(_ text: String) throws -> Double {
        Double(text) == 0 ? 0 : try seconds(text)
    }
}
