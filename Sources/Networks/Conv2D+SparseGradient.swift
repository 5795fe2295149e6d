import CMachine
import TensorCore

extension Conv2D {
    /// Output gradients with at most this fraction of non-zeros take the sparse path: it does
    /// `density` of the dense work at roughly half the dense kernels' FLOP rate.
    static let sparseDensityLimit = 0.3

    /// Input gradients of `copies` cotangents at once. Behind a max pool most of `dy` is zero (one
    /// entry per pooling window survives, and the ReLU mask removes more): Myrtle's last convolution
    /// sees 1/64 of its output gradient non-zero, the others at most 1/4. Such gradients are
    /// scattered through the kernel directly, sharing each weight row across all copies; dense ones
    /// go through one GEMM (tiny unrolled maps, few input channels) or `backward` per copy.
    public func inputGradients(_ dy: Tensor, copies: Int) throws -> Tensor {
        guard let x = cachedInput else {
            throw TensorError(.invalidArgument, "\(name) (Conv2D): input gradients asked before a forward pass")
        }
        let n = x.shape[0], g = try geometry(x)
        try dy.expectShape([copies * n, outChannels, g.oh, g.ow], "\(name) (Conv2D) output gradients (\(copies) copies)")
        guard n > 0, copies > 0, Self.nonzeroFraction(dy) <= Self.sparseDensityLimit else {
            if lastPlan?.forward == .unrolled { return try inputGradientsUnrolled(dy, copies: copies) }  // tiny maps: one GEMM (Conv2D+Unrolled)
            if inChannels < Self.columnGradientMaxChannels { return columnInputGradients(dy, g) }
            return try backwardPerCopy(dy, copies: copies)
        }
        var dx = Tensor(uninitialized: [copies * n] + Array(x.shape.dropFirst()))  // the sparse kernel writes all of it
        Self.sparseInputGradient(dy: dy, weight: weight.value, g, batch: n, copies: copies, outChannels: outChannels, dx: &dx)
        return dx
    }

    /// Below this many input channels dense input gradients go through `columnInputGradients`: oneDNN's
    /// backward-data kernel ran Myrtle's 3-channel prep layer at ~12 GFLOP/s (plus a reorder per call),
    /// 13% of the sensitivity probe.
    static let columnGradientMaxChannels = 16

    /// `dx` of every row of `dy` (all copies and images alike: the input gradient does not read `x`) as
    /// `Wᵀ·dy` per image followed by `col2im` (`addInputGradient`), the rows split over threads with BLAS
    /// serial in each, the column buffers in `scratch`.
    func columnInputGradients(_ dy: Tensor, _ g: Geometry) -> Tensor {
        let rows = dy.shape[0], o = outChannels
        var dx = Tensor(zeros: [rows, g.c, g.h, g.w])  // col2im adds
        let chunks = min(Parallel.threads, rows)
        weight.value.data.withUnsafeBufferPointer { wb in
        dy.data.withUnsafeBufferPointer { dyb in
        dx.data.withUnsafeMutableBufferPointer { dxb in
        workspace.scratch(chunks * g.colCount) { cp in
            // Non-empty (rows > 0, every dimension positive).
            let wp = wb.baseAddress!, dyp = dyb.baseAddress!, dxp = dxb.baseAddress!
            withSerialBLAS(chunks > 1) { Parallel.forChunks(chunks) { range in
                for chunk in range {
                    for row in (rows * chunk / chunks)..<(rows * (chunk + 1) / chunks) {
                        Conv2D.addInputGradient(weights: wp, outChannels: o, dyp + row * o * g.cols, g,
                                                columns: cp + chunk * g.colCount, into: dxp + row * g.c * g.h * g.w)
                    }
                }
            }}
        }}}}
        return dx
    }

    /// Input gradients straight from the gradient of a max pool that follows this convolution (with a
    /// ReLU or an evaluation-mode BatchNorm between, or nothing): the same numbers as running the pool's
    /// and the gate's backward first, but the non-zeros are listed from the pooled gradient, the pool's
    /// arg-max table and the gate, so the mostly-zero full-size gradient (4× the pooled one, times K
    /// copies) is never written, masked and scanned. Nil when the layers do not fit together (the caller
    /// then runs them one by one).
    func inputGradients(pooled dy: Tensor, pool: MaxPool2D, gate: (any ChannelGate)?, copies: Int) throws -> Tensor? {
        guard let x = cachedInput, copies > 0 else { return nil }
        let n = x.shape[0], g = try geometry(x)
        let positions = g.oh * g.ow, table = pool.argmax
        guard n > 0, pool.inputShape == [n, outChannels, g.oh, g.ow], table.count % (n * outChannels) == 0,
              dy.count == copies * table.count else { return nil }
        let pooledPositions = table.count / (n * outChannels)
        guard Double(pooledPositions) <= Self.sparseDensityLimit * Double(positions) else { return nil }
        var tested: Tensor? = nil, maps: [BatchNorm2D.Affine] = []
        if let gate {
            guard let (values, channels) = gate.gate(), values.count == n * outChannels * positions,
                  channels.count == outChannels else { return nil }
            (tested, maps) = (values, channels)
        }
        var dx = Tensor(uninitialized: [copies * n] + Array(x.shape.dropFirst()))  // the sparse kernel writes all of it
        table.withUnsafeBufferPointer { ab in
        maps.withUnsafeBufferPointer { mb in
            let run = { (values: UnsafePointer<Float>?) in
                let source = PooledSource(argmax: ab.baseAddress!, positions: pooledPositions,
                                          gate: values.map { ($0, mb.baseAddress!) })
                Self.sparseInputGradient(dy: dy, weight: self.weight.value, g, batch: n, copies: copies,
                                         outChannels: self.outChannels, pooled: source, dx: &dx)
            }
            if let tested { tested.data.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
        }}
        return dx
    }

    /// A max pool's view of this layer's output: per pooled output the position in the `H'×W'` plane it
    /// took its maximum from, and the gate between (entries it closes get no gradient, the others are
    /// scaled by its slope).
    ///
    /// `@unchecked Sendable` is safe: the pointers are only read, and `inputGradients(pooled:…)` holds the
    /// buffers they point into for the whole `sparseInputGradient` call, whose parallel chunks all finish
    /// before it returns.
    struct PooledSource: @unchecked Sendable {
        /// `[N, O, pooled positions]`, indices into the `H'×W'` plane.
        let argmax: UnsafePointer<Int32>
        /// Pooled positions per plane.
        let positions: Int
        /// The `[N, O, H', W']` values the gate tests and its map per output channel; nil without a gate.
        let gate: (values: UnsafePointer<Float>, maps: UnsafePointer<BatchNorm2D.Affine>)?
    }

    /// Fraction of non-zero entries, estimated from at most ~65k evenly spaced samples: it only
    /// chooses between two exact kernels, and a full pass would cost a sweep over a large tensor.
    static func nonzeroFraction(_ t: Tensor) -> Double {
        guard t.count > 0 else { return 0 }
        let step = max(1, t.count / 65_536) | 1  // odd, so the samples do not align with power-of-two planes
        return t.data.withUnsafeBufferPointer { b in
            var nonzero = 0, samples = 0, i = 0
            while i < b.count {
                if b[i] != 0 { nonzero += 1 }
                samples += 1
                i += step
            }
            return Double(nonzero) / Double(samples)
        }
    }

    /// `dx[k,n] = conv_transpose(dy[k,n], W)` visiting only the non-zero output positions.
    ///
    /// Per image, the non-zero `(o, i, j)` of all copies are listed per output position `(i, j)`
    /// (channel, then one value per copy). Input channels are taken in blocks small enough that the
    /// block's weights `[O][p][q][cb]` stay in L2. On AVX-512 with stride 1 and 32-channel blocks each
    /// input pixel then sums the entries of the output positions its taps reach (`fs_sparse_gather`);
    /// otherwise, per block and position, `acc[k, (p·kk + q)·cb + c] = Σ_o dy[k,n,o,i,j] · W[o,c,p,q]`
    /// is a small dense product (register-blocked micro-kernel over the listed weight rows) and each
    /// `(p, q)` slice is added to input pixel `(s·i+p−pad, s·j+q−pad)`. Both write a channels-last
    /// buffer, transposed to `[C, H, W]` at the end of the image. Images are split over threads.
    /// With `pooled`, `dy` is the gradient of the max pool that follows (see `inputGradients(pooled:…)`).
    static func sparseInputGradient(dy: Tensor, weight: Tensor, _ g: Geometry, batch n: Int, copies: Int,
                                    outChannels o: Int, pooled: PooledSource? = nil, dx: inout Tensor) {
        let blocks = SparseBlocks(g, outChannels: o)
        let transposed = blocks.transposedWeights(weight, outChannels: o)
        let paddedCopies = (copies + 4) / 5 * 5  // copies padded to a multiple of the 5-row micro-kernel
        transposed.withUnsafeBufferPointer { wt in
        dy.data.withUnsafeBufferPointer { dyb in
        dx.data.withUnsafeMutableBufferPointer { dxb in
            // Non-empty (n > 0, copies > 0, every dimension positive).
            let wt = wt.baseAddress!, dyp = dyb.baseAddress!, dxp = dxb.baseAddress!
            Parallel.forChunks(n) { images in
                let scratch = SparseScratch(g, outChannels: o, copies: copies, paddedCopies: paddedCopies,
                                            blockChannels: blocks.channels, pooledPositions: pooled?.positions ?? 0)
                defer { scratch.deallocate() }
                for img in images {
                    _ = listEntries(dy: dyp, image: img, batch: n, g, outChannels: o, copies: copies,
                                    paddedCopies: paddedCopies, pooled: pooled, scratch)
                    blocks.accumulate(g, outChannels: o, weights: wt, copies: copies, paddedCopies: paddedCopies, scratch)
                    // Channels-last → [C, H, W] for each copy of this image.
                    let plane = g.h * g.w
                    for k in 0..<copies {
                        Kernels.transpose(scratch.channelsLast + k * plane * g.c, rows: plane, columns: g.c,
                                          into: dxp + (k * n + img) * g.c * plane)
                    }
                }
            }
        }}}
    }

    /// How `sparseInputGradient` splits the input channels: blocks of ≤ 192 KiB of weights, a multiple of 16
    /// channels when C allows. Per input pixel (AVX-512, stride 1, 32-channel blocks: `gathers`) each pixel's
    /// sums stay in registers over all its taps and are stored once (no zero-fill, no read-modify-write per
    /// position: ~20% faster than the scatter), with blocks up to 640 KiB (L2 is ≥ 1 MiB where AVX-512 is).
    struct SparseBlocks {
        let gathers: Bool, channels: Int, count: Int, total: Int, taps: Int

        init(_ g: Geometry, outChannels o: Int) {
            let c = g.c, kk = g.k * g.k
            gathers = g.s == 1 && c % 32 == 0 && kk <= 64 && fs_has_avx512() == 1
            let budget = gathers ? 640 * 1024 : 192 * 1024, unit = gathers ? 32 : 16
            let fit = max(1, budget / (4 * o * kk))
            channels = c < 16 ? c : min(c, max(unit, fit / unit * unit))
            count = (c + channels - 1) / channels
            total = c
            taps = kk
        }

        /// Blocked, transposed weights: block b (channels b·cb..<b·cb+cbₐ) holds rows `[O][kk][cbₐ]`.
        func transposedWeights(_ weight: Tensor, outChannels o: Int) -> [Float] {
            var transposed = [Float](repeating: 0, count: o * taps * total)
            weight.data.withUnsafeBufferPointer { w in
                for b in 0..<count {
                    let c0 = b * channels, cb = min(channels, total - c0), base = o * taps * c0
                    for oc in 0..<o {
                        for ic in 0..<cb {
                            for t in 0..<taps { transposed[base + (oc * taps + t) * cb + ic] = w[(oc * total + c0 + ic) * taps + t] }
                        }
                    }
                }
            }
            return transposed
        }

        /// Per channel block, the listed entries of one image gathered per input pixel or scattered per output
        /// position into `scratch.channelsLast`.
        func accumulate(_ g: Geometry, outChannels o: Int, weights wt: UnsafePointer<Float>, copies: Int, paddedCopies: Int,
                        _ scratch: SparseScratch) {
            let plane = g.h * g.w
            if !gathers { scratch.channelsLast.initialize(repeating: 0, count: copies * plane * total) }
            for b in 0..<count {
                let c0 = b * channels, cb = min(channels, total - c0), blockWeights = wt + o * taps * c0
                if gathers {
                    let done = fs_sparse_gather(scratch.values, paddedCopies, copies, scratch.channels, scratch.start, blockWeights,
                                                taps * cb, cb, g.k, g.pad, g.h, g.w, g.oh, g.ow, scratch.channelsLast + c0, total,
                                                plane * total)
                    precondition(done == 1, "fs_sparse_gather declined a geometry it was chosen for")
                } else {
                    Conv2D.scatter(g, channels: c0..<(c0 + cb), weights: blockWeights, start: scratch.start, rows: scratch.channels,
                                   values: scratch.values, stride: paddedCopies, copies: copies, scratch: scratch.acc,
                                   targets: scratch.targets, into: scratch.channelsLast, copyStride: plane * total)
                }
            }
        }
    }

    /// One thread's buffers for `sparseInputGradient` (allocated per call of the thread's chunk).
    struct SparseScratch {
        /// 1 + the entry's offset in the image's gradient where non-zero in some copy, else 0, per (o, position).
        let active: UnsafeMutablePointer<Int32>
        /// Per output position, the first entry (`positions + 1` values) and a fill cursor.
        let start: UnsafeMutablePointer<Int32>, cursor: UnsafeMutablePointer<Int32>
        /// Per entry: its output channel and its offset in the image's gradient.
        let channels: UnsafeMutablePointer<Int32>, sources: UnsafeMutablePointer<Int32>
        /// Per entry, one value per (padded) copy.
        let values: UnsafeMutablePointer<Float>
        let acc: UnsafeMutablePointer<Float>, targets: UnsafeMutablePointer<Int>
        /// The image's input gradients of all copies, channels-last.
        let channelsLast: UnsafeMutablePointer<Float>
        /// Scratch of `listPooled`.
        let flags: UnsafeMutablePointer<Int32>

        init(_ g: Geometry, outChannels o: Int, copies: Int, paddedCopies: Int, blockChannels: Int, pooledPositions: Int) {
            let positions = g.oh * g.ow, maxEntries = o * positions, kk = g.k * g.k
            active = .allocate(capacity: maxEntries)
            start = .allocate(capacity: positions + 1)
            cursor = .allocate(capacity: positions)
            channels = .allocate(capacity: maxEntries)
            sources = .allocate(capacity: maxEntries)
            values = .allocate(capacity: maxEntries * paddedCopies)
            acc = .allocate(capacity: paddedCopies * kk * blockChannels)
            targets = .allocate(capacity: kk)
            channelsLast = .allocate(capacity: copies * g.h * g.w * g.c)
            flags = .allocate(capacity: o * pooledPositions)
        }

        func deallocate() {
            active.deallocate(); start.deallocate(); cursor.deallocate(); channels.deallocate(); sources.deallocate()
            values.deallocate(); acc.deallocate(); targets.deallocate(); channelsLast.deallocate(); flags.deallocate()
        }
    }

    /// Step 1 of `sparseInputGradient` for one image: which (o, position) are non-zero in some copy, listed per
    /// output position (`start`, `channels`, `sources`), and their values copy by copy (one sequential stream at
    /// a time: ten strided reads per entry were a third of the function). Returns the number of entries.
    static func listEntries(dy dyp: UnsafePointer<Float>, image img: Int, batch n: Int, _ g: Geometry, outChannels o: Int,
                            copies: Int, paddedCopies: Int, pooled: PooledSource?, _ s: SparseScratch) -> Int {
        let positions = g.oh * g.ow
        if let pooled {
            listPooled(pooled, dy: dyp, image: img, batch: n, channels: o, positions: positions,
                       copies: copies, flags: s.flags, into: s.active)
        } else {
            markActive(dyp + img * o * positions, copyStride: n * o * positions, copies: copies,
                       count: o * positions, into: s.active)
        }
        s.start.initialize(repeating: 0, count: positions + 1)
        for oc in 0..<o {
            let row = s.active + oc * positions
            for pos in 0..<positions { s.start[pos + 1] &+= min(row[pos], 1) }  // active values are ≥ 0
        }
        for pos in 0..<positions { s.start[pos + 1] &+= s.start[pos]; s.cursor[pos] = s.start[pos] }
        for oc in 0..<o {
            let row = s.active + oc * positions
            for pos in 0..<positions where row[pos] != 0 {
                let e = Int(s.cursor[pos])
                s.cursor[pos] += 1
                s.channels[e] = Int32(oc)
                s.sources[e] = pooled == nil ? Int32(oc * positions + pos) : row[pos] - 1
            }
        }
        let entries = Int(s.start[positions]), imageStride = o * (pooled?.positions ?? positions)
        for k in 0..<paddedCopies {
            guard k < copies else {
                for e in 0..<entries { s.values[e * paddedCopies + k] = 0 }
                continue
            }
            let source = dyp + (k * n + img) * imageStride
            if let maps = pooled?.gate?.maps {
                // The gate's slope (1 for a ReLU, exact), applied as its backward would.
                for e in 0..<entries { s.values[e * paddedCopies + k] = maps[Int(s.channels[e])].slope(source[Int(s.sources[e])]) }
            } else {
                for e in 0..<entries { s.values[e * paddedCopies + k] = source[Int(s.sources[e])] }
            }
        }
        return entries
    }

    /// One channel block `channels` of the scatter: per output position with entries (`start`, `rows`,
    /// `values` rows `stride` wide), the small dense product of its values and the block's weight rows,
    /// added onto the input pixels its taps reach in the channels-last `out`.
    static func scatter(_ g: Geometry, channels: Range<Int>, weights: UnsafePointer<Float>, start: UnsafePointer<Int32>,
                        rows: UnsafePointer<Int32>, values: UnsafePointer<Float>, stride: Int, copies: Int,
                        scratch acc: UnsafeMutablePointer<Float>, targets: UnsafeMutablePointer<Int>,
                        into out: UnsafeMutablePointer<Float>, copyStride: Int) {
        let kk = g.k * g.k, c0 = channels.lowerBound, cb = channels.count, rowLength = kk * cb
        for pos in 0..<(g.oh * g.ow) {
            let first = Int(start[pos]), count = Int(start[pos + 1]) - first
            guard count > 0 else { continue }
            let i = pos / g.ow, j = pos % g.ow
            for p in 0..<g.k {
                for q in 0..<g.k {
                    let iy = i * g.s + p - g.pad, ix = j * g.s + q - g.pad
                    let inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w
                    targets[p * g.k + q] = inside ? (iy * g.w + ix) * g.c + c0 : -1
                }
            }
            let rowValues = values + first * stride, rowList = rows + first
            if cb % 16 == 0 {
                accumulate(rowValues, stride: stride, copies: copies, rows: rowList, count: count, weights: weights,
                           rowLength: rowLength, tapWidth: cb, targets: targets, into: out, copyStride: copyStride)
                continue
            }
            accumulate(rowValues, stride: stride, groups: stride / 5, rows: rowList, count: count, weights: weights,
                       rowLength: rowLength, into: acc)
            for t in 0..<kk where targets[t] >= 0 {
                for k in 0..<copies { Kernels.add(acc + k * rowLength + t * cb, out + k * copyStride + targets[t], count: cb) }
            }
        }
    }

    /// `active[e] = 1` where some copy `dy[k·copyStride + e]` is non-zero, else 0, for `e < count`.
    static func markActive(_ dy: UnsafePointer<Float>, copyStride: Int, copies: Int, count: Int,
                           into active: UnsafeMutablePointer<Int32>) {
        let zero = SIMD8<Float>(), one = SIMD8<Int32>(repeating: 1)
        var e = 0
        while e + 8 <= count {
            var m = SIMD8<Int32>()
            for k in 0..<copies {
                let v = UnsafeRawPointer(dy + k * copyStride + e).loadUnaligned(as: SIMD8<Float>.self)
                m |= SIMD8<Int32>().replacing(with: one, where: v .!= zero)
            }
            UnsafeMutableRawPointer(active + e).storeBytes(of: m, as: SIMD8<Int32>.self)
            e += 8
        }
        while e < count {
            var a: Int32 = 0
            for k in 0..<copies where dy[k * copyStride + e] != 0 { a = 1 }
            active[e] = a
            e += 1
        }
    }

    /// `active[oc·positions + argmax] = 1 + oc·pooled + p` for every pooled output `p` of channel `oc`
    /// that is non-zero in some copy and whose arg-max the gate lets through (`Affine.passes`, like the
    /// gate's backward); 0 elsewhere. `flags` is scratch for `o · pooled.positions` values.
    static func listPooled(_ pooled: PooledSource, dy: UnsafePointer<Float>, image img: Int, batch n: Int, channels o: Int,
                           positions: Int, copies: Int, flags: UnsafeMutablePointer<Int32>,
                           into active: UnsafeMutablePointer<Int32>) {
        let count = o * pooled.positions
        markActive(dy + img * count, copyStride: n * count, copies: copies, count: count, into: flags)
        active.initialize(repeating: 0, count: o * positions)
        let table = pooled.argmax + img * count
        let gate = pooled.gate.map { (values: $0.values + img * o * positions, maps: $0.maps) }
        for oc in 0..<o {
            for p in 0..<pooled.positions where flags[oc * pooled.positions + p] != 0 {
                let e = oc * pooled.positions + p, pos = Int(table[e])
                if let gate, !gate.maps[oc].passes(gate.values[oc * positions + pos]) { continue }
                active[oc * positions + pos] = Int32(e + 1)
            }
        }
    }

    typealias Strip = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>,
                       SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

    /// `Σ_i values[i·stride + r] · weights[rows[i]·L + j ..< +16]` for r < 5, as (row r, columns j..<j+8;
    /// row r, columns j+8..<j+16) pairs: ten accumulators stay in registers while the listed weight
    /// rows stream by.
    @inline(__always)
    static func fiveRowStrip(_ values: UnsafePointer<Float>, stride: Int, rows: UnsafePointer<Int32>, count: Int,
                             weights: UnsafePointer<Float>, rowLength: Int, column j: Int) -> Strip {
        typealias V = SIMD8<Float>
        var a0 = V(), b0 = V(), a1 = V(), b1 = V(), a2 = V(), b2 = V(), a3 = V(), b3 = V(), a4 = V(), b4 = V()
        for i in 0..<count {
            let w = UnsafeRawPointer(weights + Int(rows[i]) * rowLength + j)
            let w0 = w.loadUnaligned(as: V.self), w1 = w.loadUnaligned(fromByteOffset: 32, as: V.self)
            let v = values + i * stride
            let g0 = V(repeating: v[0]), g1 = V(repeating: v[1]), g2 = V(repeating: v[2])
            let g3 = V(repeating: v[3]), g4 = V(repeating: v[4])
            a0 = a0.addingProduct(g0, w0); b0 = b0.addingProduct(g0, w1)
            a1 = a1.addingProduct(g1, w0); b1 = b1.addingProduct(g1, w1)
            a2 = a2.addingProduct(g2, w0); b2 = b2.addingProduct(g2, w1)
            a3 = a3.addingProduct(g3, w0); b3 = b3.addingProduct(g3, w1)
            a4 = a4.addingProduct(g4, w0); b4 = b4.addingProduct(g4, w1)
        }
        return (a0, b0, a1, b1, a2, b2, a3, b3, a4, b4)
    }

    /// Fused product and scatter for taps `tapWidth` (a multiple of 16) channels wide: strip `j` belongs
    /// to tap `j / tapWidth`, whose pixel offset is `targets[tap]` (−1: outside the image, skipped);
    /// the accumulators of copy k are added straight into `out[k·copyStride + target + j % tapWidth]`.
    @inline(__always)
    static func accumulate(_ values: UnsafePointer<Float>, stride: Int, copies: Int, rows: UnsafePointer<Int32>, count: Int,
                           weights: UnsafePointer<Float>, rowLength: Int, tapWidth: Int, targets: UnsafePointer<Int>,
                           into out: UnsafeMutablePointer<Float>, copyStride: Int) {
        // AVX-512 where the CPU has it (C, dispatched at run time; this module is compiled for AVX2).
        let done = targets.withMemoryRebound(to: Int64.self, capacity: rowLength / max(tapWidth, 1)) { t64 in
            fs_sparse_scatter(values, stride, copies, rows, count, weights, rowLength, tapWidth, t64, out, copyStride)
        }
        if done == 1 { return }
        typealias V = SIMD8<Float>
        @inline(__always) func add(_ a: V, _ b: V, copy k: Int, _ offset: Int) {
            guard k < copies else { return }
            let p = UnsafeMutableRawPointer(out + k * copyStride + offset)
            p.storeBytes(of: p.loadUnaligned(as: V.self) + a, as: V.self)
            p.storeBytes(of: p.loadUnaligned(fromByteOffset: 32, as: V.self) + b, toByteOffset: 32, as: V.self)
        }
        var j = 0
        while j + 16 <= rowLength {
            let target = targets[j / tapWidth]
            if target >= 0 {
                let offset = target + j % tapWidth
                var group = 0
                while 5 * group < copies {
                    let s = fiveRowStrip(values + 5 * group, stride: stride, rows: rows, count: count, weights: weights,
                                         rowLength: rowLength, column: j)
                    let k = 5 * group
                    add(s.0, s.1, copy: k, offset); add(s.2, s.3, copy: k + 1, offset); add(s.4, s.5, copy: k + 2, offset)
                    add(s.6, s.7, copy: k + 3, offset); add(s.8, s.9, copy: k + 4, offset)
                    group += 1
                }
            }
            j += 16
        }
    }

    /// `acc[r, 0..<L] = Σ_i values[i·stride + r] · weights[rows[i]·L ..< +L]` for r < 5·groups (any `L`).
    static func accumulate(_ values: UnsafePointer<Float>, stride: Int, groups: Int, rows: UnsafePointer<Int32>, count: Int,
                           weights: UnsafePointer<Float>, rowLength: Int, into acc: UnsafeMutablePointer<Float>) {
        typealias V = SIMD8<Float>
        var j = 0
        while j + 16 <= rowLength {
            for group in 0..<groups {
                let s = fiveRowStrip(values + 5 * group, stride: stride, rows: rows, count: count, weights: weights,
                                     rowLength: rowLength, column: j)
                let out = UnsafeMutableRawPointer(acc + 5 * group * rowLength + j), row = rowLength * 4
                out.storeBytes(of: s.0, as: V.self); out.storeBytes(of: s.1, toByteOffset: 32, as: V.self)
                out.storeBytes(of: s.2, toByteOffset: row, as: V.self); out.storeBytes(of: s.3, toByteOffset: row + 32, as: V.self)
                out.storeBytes(of: s.4, toByteOffset: 2 * row, as: V.self); out.storeBytes(of: s.5, toByteOffset: 2 * row + 32, as: V.self)
                out.storeBytes(of: s.6, toByteOffset: 3 * row, as: V.self); out.storeBytes(of: s.7, toByteOffset: 3 * row + 32, as: V.self)
                out.storeBytes(of: s.8, toByteOffset: 4 * row, as: V.self); out.storeBytes(of: s.9, toByteOffset: 4 * row + 32, as: V.self)
            }
            j += 16
        }
        while j < rowLength {
            for r in 0..<(5 * groups) {
                var sum: Float = 0
                for i in 0..<count { sum += values[i * stride + r] * weights[Int(rows[i]) * rowLength + j] }
                acc[r * rowLength + j] = sum
            }
            j += 1
        }
    }
}
