import Foundation
import Testing
import Datasets
import Networks
import TensorCore
import Trials
@testable import Probes

/// A literal port of Wang et al.'s `generateDataWithDifferentFrequencies_3Channel` (numpy, per image and
/// channel): `fd = fftshift(fft2(img))`, `mask[i, j] = sqrt((i − H/2)² + (j − W/2)²) < r`,
/// `low = real(ifft2(ifftshift(fd·mask)))`, `high` with `1 − mask`; with a naive complex DFT in Double.
enum WangReference {
    /// numpy's unnormalized `fft2` (`inverse`: `ifft2`, scaled by 1/(HW)) of one `h×w` complex plane.
    static func dft(_ re: [Double], _ im: [Double], h: Int, w: Int, inverse: Bool) -> ([Double], [Double]) {
        var outRe = [Double](repeating: 0, count: h * w), outIm = outRe
        let sign = inverse ? 1.0 : -1.0, scale = inverse ? 1 / Double(h * w) : 1
        for u in 0..<h {
            for v in 0..<w {
                var a = 0.0, b = 0.0
                for p in 0..<h {
                    for q in 0..<w {
                        let t = sign * 2 * Double.pi * (Double(u * p) / Double(h) + Double(v * q) / Double(w))
                        a += re[p * w + q] * cos(t) - im[p * w + q] * sin(t)
                        b += re[p * w + q] * sin(t) + im[p * w + q] * cos(t)
                    }
                }
                outRe[u * w + v] = a * scale
                outIm[u * w + v] = b * scale
            }
        }
        return (outRe, outIm)
    }

    /// numpy's `fftshift` (`inverse`: `ifftshift`) of one `h×w` plane.
    static func shift(_ x: [Double], h: Int, w: Int, inverse: Bool) -> [Double] {
        let dy = inverse ? (h + 1) / 2 : h / 2, dx = inverse ? (w + 1) / 2 : w / 2
        var out = x
        for i in 0..<h { for j in 0..<w { out[((i + dy) % h) * w + (j + dx) % w] = x[i * w + j] } }
        return out
    }

    /// `(low, high)` of `[N, C, H, W]` images at radius `r`, optionally each divided by its maximum.
    static func components(_ x: Tensor, r: Int, rescale: Bool) -> (low: [Double], high: [Double]) {
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3], plane = h * w
        var low = [Double](repeating: 0, count: x.count), high = low
        for img in 0..<(n * c) {
            let pixels = x.data[(img * plane)..<((img + 1) * plane)].map(Double.init)
            let (fr, fi) = dft(pixels, [Double](repeating: 0, count: plane), h: h, w: w, inverse: false)
            let sr = shift(fr, h: h, w: w, inverse: false), si = shift(fi, h: h, w: w, inverse: false)
            for (keepInside, target) in [(true, 0), (false, 1)] {
                var mr = sr, mi = si
                for i in 0..<h {
                    for j in 0..<w {
                        let dy = Double(i) - Double(h) / 2, dx = Double(j) - Double(w) / 2
                        let inside = (dy * dy + dx * dx).squareRoot() < Double(r)
                        if inside != keepInside { mr[i * w + j] = 0; mi[i * w + j] = 0 }
                    }
                }
                let (re, _) = dft(shift(mr, h: h, w: w, inverse: true), shift(mi, h: h, w: w, inverse: true), h: h, w: w, inverse: true)
                for q in 0..<plane {
                    if target == 0 { low[img * plane + q] = re[q] } else { high[img * plane + q] = re[q] }
                }
            }
        }
        if rescale {
            let inner = c * plane
            for i in 0..<n {
                for part in [0, 1] {
                    let v = part == 0 ? low : high
                    let m = v[(i * inner)..<((i + 1) * inner)].max()!
                    for q in (i * inner)..<((i + 1) * inner) {
                        if part == 0 { low[q] = v[q] / m } else { high[q] = v[q] / m }
                    }
                }
            }
        }
        return (low, high)
    }
}

@Suite struct LowHighFrequencyProbeTests {
    /// The images the model is fed equal the numpy reference: unclipped (negative pixels stay) by default,
    /// `x / max(x)` per image with `compat: paper`.
    @Test(arguments: [ProbeOptions.Compat.clean, .paper]) func componentsMatchWangReference(compat: ProbeOptions.Compat) throws {
        let x = randomImages(2, c: 3, size: 8, seed: 4)
        for r in [1, 2, 3, 4] {
            let (low, high) = try LowHighFrequencyProbe.components(x, radius: r, compat: compat)
            let want = WangReference.components(x, r: r, rescale: compat == .paper)
            var worst = 0.0
            for q in 0..<x.count {
                worst = max(worst, abs(Double(low.data[q]) - want.low[q]), abs(Double(high.data[q]) - want.high[q]))
            }
            #expect(worst < 1e-5, "r = \(r): max difference \(worst)")
            #expect(high.data.contains { $0 < 0 }, "HFC pixels below 0 must reach the model")
        }
    }

    /// LFC + HFC is the image (clean mode).
    @Test func componentsAddUpToTheImage() throws {
        let x = randomImages(2, c: 2, size: 8, seed: 4)
        let (low, high) = try LowHighFrequencyProbe.components(x, radius: 3, compat: .clean)
        var worst: Float = 0
        for q in 0..<x.count { worst = max(worst, abs(low.data[q] + high.data[q] - x.data[q])) }
        #expect(worst < 1e-5)
    }

    /// End to end: labels are the model's predictions on the reference HFC (and LFC) images, so the probe
    /// must report accuracy 1 on both; clipping the same images to [0, 1] would change predictions.
    @Test(arguments: [ProbeOptions.Compat.clean, .paper]) func accuracyIsMeasuredOnTheReferenceImages(compat: ProbeOptions.Compat) throws {
        let size = 8, n = 40, r = 2
        let model = try Model(ModelConfig(arch: .convactually, depth: 1, width: 2, classes: 5, channels: 3, imageSize: size), seed: 7)
        let x = randomImages(n, c: 3, size: size, seed: 21)
        let ref = WangReference.components(x, r: r, rescale: compat == .paper)
        func predictions(_ v: [Double]) throws -> [Int] {
            ModelEvaluation.argmax(try model.forward(Tensor(shape: x.shape, data: v.map(Float.init)), mode: .eval))
        }
        for (part, values) in [("hfc", ref.high), ("lfc", ref.low)] {
            let labels = try predictions(values)
            let set = try ImageSet(images: x, labels: labels, classes: 5)
            let res = try ProbeRegistry.run("lfc_hfc", model: model, data: ProbeData(test: set),
                                            options: ProbeOptions(compat: compat, params: ["radii": .number(Double(r))]))
            #expect(res.scalars["lfc_hfc.\(part).r\(r)"] == 1, "\(part) accuracy \(String(describing: res.scalars["lfc_hfc.\(part).r\(r)"]))")
            if part == "hfc" && compat == .clean {
                let clipped = try predictions(values.map { min(1, max(0, $0)) })
                #expect(zip(clipped, labels).filter { $0 != $1 }.count > n / 10, "clipping must matter on these images")
            }
        }
    }

    /// The template model's evidence sits at radius ≤ √2: LFC at r = 2 keeps it (accuracy 1), HFC at r = 2
    /// drops it (logits ≈ 0 plus the tie-breaking bias: class 3, accuracy 1/4); at r = 1 only the DC is low.
    @Test func accuraciesOnTheTemplateTask() throws {
        let task = try TemplateTask(amplitude: 0.3)
        let res = try ProbeRegistry.run("lfc_hfc", model: task.model, data: ProbeData(test: task.set),
                                        options: ProbeOptions(params: ["radii": .list([.number(1), .number(2)])]))
        #expect(res.arrays["lfc_hfc.radii"]?.data == [1, 2])
        #expect(res.arrays["lfc_hfc.lfc_accuracy"]?.data == [0.25, 1])
        #expect(res.arrays["lfc_hfc.hfc_accuracy"]?.data == [1, 0.25])
        #expect(res.scalars["lfc_hfc.lfc.r2"] == 1)
        #expect(throws: ProbeError.self) {
            try ProbeRegistry.run("lfc_hfc", model: task.model, data: ProbeData(test: task.set),
                                  options: ProbeOptions(params: ["radii": .list([.number(1.5)])]))
        }
    }

    /// Defaults scale with the image: round(k·⌊H/2⌋/4) for k = 1…4, the published 4, 8, 12, 16 at 32 px.
    @Test func defaultRadiiScaleWithTheImageSize() throws {
        #expect(LowHighFrequencyProbe.defaultRadii(imageSize: 32) == [4, 8, 12, 16])
        #expect(LowHighFrequencyProbe.defaultRadii(imageSize: 16) == [2, 4, 6, 8])
        #expect(LowHighFrequencyProbe.defaultRadii(imageSize: 64) == [8, 16, 24, 32])
        #expect(LowHighFrequencyProbe.defaultRadii(imageSize: 28) == [4, 7, 11, 14])  // 3.5 and 10.5 round up
        #expect(LowHighFrequencyProbe.defaultRadii(imageSize: 4) == [1, 2])
        #expect(LowHighFrequencyProbe.defaultRadii(imageSize: 7) == [1, 2, 3])  // odd: Nyquist radius 3
        for size in 2...96 {
            let radii = LowHighFrequencyProbe.defaultRadii(imageSize: size)
            #expect(!radii.isEmpty && radii.allSatisfy { $0 >= 1 && $0 <= size / 2 }, "\(size) px: \(radii)")
            #expect(throws: Never.self) { try LowHighFrequencyProbe.radii(ProbeOptions(), imageSize: size) }
        }
        // The default run on 8-px images uses 1, 2, 3, 4.
        let task = try TemplateTask()
        let res = try ProbeRegistry.run("lfc_hfc", model: task.model, data: ProbeData(test: task.set))
        #expect(res.arrays["lfc_hfc.radii"]?.data == [1, 2, 3, 4])
    }

    /// A radius past H/2 is refused before anything runs, with the key of the request.
    @Test func radiiPastNyquistAreRefusedWithTheirKey() throws {
        let specs = [ProbeSpec(name: "sensitivity"), ProbeSpec(name: "fourier_heatmap"),
                     ProbeSpec(name: "lfc_hfc", options: ProbeOptions(params: ["radii": .list([4, 8, 12].map { .number($0) })]))]
        do {
            try ProbeRegistry.validate(specs, imageSize: 16)
            Issue.record("radius 12 on 16-px images must be refused")
        } catch let e as ProbeError {
            #expect(e.message == "probes[2].params.radii: 12 is past the Nyquist radius 8 of 16-px images (use radii ≤ 8, or leave radii out for 2, 4, 6, 8)")
        }
        try ProbeRegistry.validate(specs, imageSize: 32)
        try ProbeRegistry.validate(specs, imageSize: nil)  // size unknown: only names and parameter names
        // The same check at run time, and in a suite built on 8-px data.
        let task = try TemplateTask()
        let bad = ProbeOptions(params: ["radii": .list([.number(5)])])
        do {
            _ = try ProbeRegistry.run("lfc_hfc", model: task.model, data: ProbeData(test: task.set), options: bad)
            Issue.record("radius 5 on 8-px images must be refused")
        } catch let e as ProbeError {
            #expect(e.message.hasPrefix("lfc_hfc.params.radii: 5 is past the Nyquist radius 4 of 8-px images"))
        }
        #expect(throws: ProbeError.self) { try ProbeSuite([ProbeSpec(name: "lfc_hfc", options: bad)], data: ProbeData(test: task.set)) }
        #expect(throws: ProbeError.self) {
            try ProbeRegistry.validate([ProbeSpec(name: "lfc_hfc", options: ProbeOptions(params: ["radii": .list([])]))], imageSize: 8)
        }
    }
}
