import Testing
import TensorCore
@testable import Datasets

/// Nearest-class-mean classifier accuracy: class means from `train`, test images assigned to the closest mean.
func nearestClassMeanAccuracy(train: ImageSet, test: ImageSet) -> Double {
    let d = train.channels * train.height * train.width
    var means = [Double](repeating: 0, count: train.classes * d)
    let counts = train.classCounts
    for i in 0..<train.count {
        let l = train.labels[i]
        for k in 0..<d { means[l * d + k] += Double(train.images.data[i * d + k]) }
    }
    for c in 0..<train.classes where counts[c] > 0 {
        for k in 0..<d { means[c * d + k] /= Double(counts[c]) }
    }
    var correct = 0
    for i in 0..<test.count {
        var best = -1, bestDist = Double.infinity
        for c in 0..<train.classes {
            var s = 0.0
            for k in 0..<d {
                let e = Double(test.images.data[i * d + k]) - means[c * d + k]
                s += e * e
            }
            if s < bestDist { bestDist = s; best = c }
        }
        if best == test.labels[i] { correct += 1 }
    }
    return Double(correct) / Double(max(1, test.count))
}
