import ArgumentParser
import Trials

// Flags take the trial contract's own vocabularies, so `--arch resnet` fails listing the valid values and a
// value added to `Trials` is accepted on the command line at once.
extension Architecture: ExpressibleByArgument {}
extension Activation: ExpressibleByArgument {}
extension DatasetName: ExpressibleByArgument {}
extension ImageFilter: ExpressibleByArgument {}
extension FrequencyBand: ExpressibleByArgument {}
extension ScheduleName: ExpressibleByArgument {}
extension Compat: ExpressibleByArgument {}
