import Foundation

/// A table of vectors (a model's item factors) laid out once for scoring a few queries against every
/// row and keeping each query's best: the serving path, where requests arrive a handful at a time.
///
/// A GEMM call copies ("packs") the whole table into its kernel's layout on every call: for a batch of
/// a few users against 27,000 × 64 item factors that copy costs more than the arithmetic. Here the
/// rows are packed once, into panels of 16 rows stored column by column, so that a kernel multiplies
/// broadcast query values into 16 rows' sums at a time straight from memory. Rows are scored in
/// blocks that stay in cache while every query of the batch reads them, and each block's scores go
/// to the queries' top-k selections while still in L1: no `[queries, rows]` score matrix is written.
///
/// Every score is Σ_c q[c]·row[c] summed over the columns in order with fused multiply-adds, however
/// many queries share the batch, so a query's list does not depend on its batch. Those sums round
/// differently from a BLAS product's (within a few ulps), which can swap two near-tied rows.
public struct PackedRows: Sendable {
    /// Rows per panel: two 8-lane vectors.
    public static let panelRows = 16
    /// Bytes of one panel column (16 floats).
    static let panelBytes = 64
    /// Rows scored per block, per query group (32 KB of a 64-wide table: within L1).
    static let blockPanels = 8

    public let rowCount: Int
    public let width: Int
    /// Panel p, column c, lane j (row 16p + j) at `(p · width + c) · 16 + j`; rows past the end are 0.
    let panels: AlignedFloatBuffer

    /// Packs the rows of `table`, `[rowCount, width]`.
    public init(_ table: Tensor) {
        precondition(
            table.shape.count == 2 && table.shape[1] > 0,
            "PackedRows needs a 2-D table of some width, not \(table.shape)")
        rowCount = table.shape[0]
        width = table.shape[1]
        let panelCount = (rowCount + Self.panelRows - 1) / Self.panelRows
        var packed = AlignedFloatBuffer(count: panelCount * width * Self.panelRows)
        let (rows, width) = (rowCount, width)
        table.scalars.withUnsafeBufferPointer { source in
            packed.withUnsafeMutableBufferPointer { target in
                for row in 0..<rows {
                    let (panel, lane) = row.quotientAndRemainder(dividingBy: Self.panelRows)
                    for column in 0..<width {
                        target[(panel * width + column) * Self.panelRows + lane] = source[row * width + column]
                    }
                }
            }
        }
        panels = packed
    }

    /// Every row's score for each query, `[queries.count, rowCount]` (for checks; `topK` never
    /// materialises it).
    public func scores(queries: Tensor) -> Tensor {
        let queryCount = checkedQueryCount(queries)
        var out = [Float](repeating: 0, count: queryCount * rowCount)
        let rowCount = rowCount
        forEachBlock(queries: queries) { query, first, block, count in
            for offset in 0..<count { out[query * rowCount + first + offset] = block[offset] }
        }
        return Tensor(shape: [queryCount, rowCount], scalars: out)
    }

    /// The best `k` rows for each query by dot product (higher first, ties to the lower row, NaN never
    /// kept), skipping the rows in `excluding[q]` (any order): what
    /// `queries.matmul(table, transposingOther: true).topKPerRow(k, excluding:)` selects, from
    /// this type's sums.
    public func topK(queries: Tensor, k: Int, excluding: [[Int32]] = []) -> [[ScoredIndex]] {
        let queryCount = checkedQueryCount(queries)
        precondition(excluding.isEmpty || excluding.count == queryCount, "one exclusion list per query")
        let k = min(max(0, k), rowCount)
        guard k > 0 else { return [[ScoredIndex]](repeating: [], count: queryCount) }
        var streams = (0..<queryCount).map { TopKStream(k: k, excluding: excluding.isEmpty ? [] : excluding[$0]) }
        streams.withUnsafeMutableBufferPointer { streams in
            forEachBlock(queries: queries) { query, first, block, count in
                streams[query].offer(block, count: count, from: first)
            }
        }
        return streams.map { $0.best() }
    }

    private func checkedQueryCount(_ queries: Tensor) -> Int {
        precondition(
            queries.shape.count == 2 && queries.shape[1] == width,
            "queries of shape \(queries.shape) against rows of width \(width)")
        return queries.shape[0]
    }

    /// Calls `body(query, firstRow, scores, count)` for every block of rows and every query, blocks in
    /// row order: the scores of rows `firstRow..<firstRow + count` for `query`.
    private func forEachBlock(
        queries: Tensor, _ body: (_ query: Int, _ first: Int, _ scores: UnsafePointer<Float>, _ count: Int) -> Void
    ) {
        let queryCount = queries.shape[0]
        guard queryCount > 0, rowCount > 0 else { return }
        let (width, rowCount, panelRows) = (width, rowCount, Self.panelRows)
        let panelCount = (rowCount + panelRows - 1) / panelRows
        let blockRows = Self.blockPanels * panelRows
        // Four queries' scores of one block.
        var block = [Float](repeating: 0, count: 4 * blockRows)
        queries.scalars.withUnsafeBufferPointer { queryBuffer in
            panels.withUnsafeBufferPointer { panelBuffer in
                block.withUnsafeMutableBufferPointer { blockBuffer in
                    let q = queryBuffer.baseAddress!
                    let out = blockBuffer.baseAddress!
                    var firstPanel = 0
                    while firstPanel < panelCount {
                        let blockPanels = min(Self.blockPanels, panelCount - firstPanel)
                        let firstRow = firstPanel * panelRows
                        let count = min(blockPanels * panelRows, rowCount - firstRow)
                        var query = 0
                        while query < queryCount {
                            let group = min(4, queryCount - query)
                            if group == 1 {
                                var panel = 0
                                while panel < blockPanels {
                                    let span = min(4, blockPanels - panel)
                                    Self.scoreFourPanels(
                                        q + query * width,
                                        panels: UnsafeRawPointer(
                                            panelBuffer.baseAddress! + (firstPanel + panel) * width * panelRows),
                                        panelCount: span, width: width, out: out + panel * panelRows)
                                    panel += span
                                }
                            } else {
                                // Three queries (or two) repeat the last one in the missing places.
                                let last = query + group - 1
                                let q0 = q + query * width
                                let q1 = q + min(query + 1, last) * width
                                let q2 = q + min(query + 2, last) * width
                                let q3 = q + last * width
                                for panel in 0..<blockPanels {
                                    Self.scoreFourQueries(
                                        q0, q1, q2, q3,
                                        panel: UnsafeRawPointer(
                                            panelBuffer.baseAddress! + (firstPanel + panel) * width * panelRows),
                                        width: width, out: out + panel * panelRows, stride: blockRows)
                                }
                            }
                            for member in 0..<group {
                                body(query + member, firstRow, UnsafePointer(out + member * blockRows), count)
                            }
                            query += group
                        }
                        firstPanel += blockPanels
                    }
                }
            }
        }
    }

    /// One panel (16 rows) against four queries: eight 8-lane sums, each lane the ordered fused sum.
    /// Scores of query i go to `out + i · stride`.
    @inline(__always)
    static func scoreFourQueries(
        _ q0: UnsafePointer<Float>, _ q1: UnsafePointer<Float>, _ q2: UnsafePointer<Float>,
        _ q3: UnsafePointer<Float>, panel: UnsafeRawPointer, width: Int, out: UnsafeMutablePointer<Float>,
        stride: Int
    ) {
        var low0 = SIMD8<Float>()
        var high0 = SIMD8<Float>()
        var low1 = SIMD8<Float>()
        var high1 = SIMD8<Float>()
        var low2 = SIMD8<Float>()
        var high2 = SIMD8<Float>()
        var low3 = SIMD8<Float>()
        var high3 = SIMD8<Float>()
        for column in 0..<width {
            let low = panel.loadUnaligned(fromByteOffset: column * panelBytes, as: SIMD8<Float>.self)
            let high = panel.loadUnaligned(fromByteOffset: column * panelBytes + 32, as: SIMD8<Float>.self)
            let x0 = SIMD8<Float>(repeating: q0[column])
            low0.addProduct(x0, low)
            high0.addProduct(x0, high)
            let x1 = SIMD8<Float>(repeating: q1[column])
            low1.addProduct(x1, low)
            high1.addProduct(x1, high)
            let x2 = SIMD8<Float>(repeating: q2[column])
            low2.addProduct(x2, low)
            high2.addProduct(x2, high)
            let x3 = SIMD8<Float>(repeating: q3[column])
            low3.addProduct(x3, low)
            high3.addProduct(x3, high)
        }
        store(low0, high0, to: out)
        store(low1, high1, to: out + stride)
        store(low2, high2, to: out + 2 * stride)
        store(low3, high3, to: out + 3 * stride)
    }

    /// Up to four consecutive panels (64 rows) against one query, with the same sums as
    /// `scoreFourQueries`: eight independent sums keep the multiply-add units busy for a lone query.
    @inline(__always)
    static func scoreFourPanels(
        _ q: UnsafePointer<Float>, panels: UnsafeRawPointer, panelCount: Int, width: Int,
        out: UnsafeMutablePointer<Float>
    ) {
        guard panelCount == 4 else {
            // The block's last panels: one at a time, the same ordered sums.
            for panel in 0..<panelCount {
                var low = SIMD8<Float>()
                var high = SIMD8<Float>()
                let base = panels + panel * width * panelBytes
                for column in 0..<width {
                    let x = SIMD8<Float>(repeating: q[column])
                    low.addProduct(x, base.loadUnaligned(fromByteOffset: column * panelBytes, as: SIMD8<Float>.self))
                    high.addProduct(
                        x, base.loadUnaligned(fromByteOffset: column * panelBytes + 32, as: SIMD8<Float>.self))
                }
                store(low, high, to: out + panel * panelRows)
            }
            return
        }
        let p0 = panels
        let p1 = panels + width * panelBytes
        let p2 = panels + 2 * width * panelBytes
        let p3 = panels + 3 * width * panelBytes
        var low0 = SIMD8<Float>()
        var high0 = SIMD8<Float>()
        var low1 = SIMD8<Float>()
        var high1 = SIMD8<Float>()
        var low2 = SIMD8<Float>()
        var high2 = SIMD8<Float>()
        var low3 = SIMD8<Float>()
        var high3 = SIMD8<Float>()
        for column in 0..<width {
            let x = SIMD8<Float>(repeating: q[column])
            let offset = column * panelBytes
            low0.addProduct(x, p0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self))
            high0.addProduct(x, p0.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self))
            low1.addProduct(x, p1.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self))
            high1.addProduct(x, p1.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self))
            low2.addProduct(x, p2.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self))
            high2.addProduct(x, p2.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self))
            low3.addProduct(x, p3.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self))
            high3.addProduct(x, p3.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self))
        }
        store(low0, high0, to: out)
        store(low1, high1, to: out + panelRows)
        store(low2, high2, to: out + 2 * panelRows)
        store(low3, high3, to: out + 3 * panelRows)
    }

    @inline(__always)
    static func store(_ low: SIMD8<Float>, _ high: SIMD8<Float>, to out: UnsafeMutablePointer<Float>) {
        let raw = UnsafeMutableRawPointer(out)
        raw.storeBytes(of: low, toByteOffset: 0, as: SIMD8<Float>.self)
        raw.storeBytes(of: high, toByteOffset: 32, as: SIMD8<Float>.self)
    }
}

/// A table's `PackedRows`, made on first use and then shared: a model keeps one beside its factors
/// without packing (or holding twice the memory) until something serves from it.
public final class LazyPackedRows: @unchecked Sendable { // `packed` is guarded by `lock`
    private let table: Tensor
    private let lock = NSLock()
    private var packed: PackedRows?

    public init(_ table: Tensor) { self.table = table }

    public var rows: PackedRows {
        lock.lock()
        defer { lock.unlock() }
        if let packed { return packed }
        let made = PackedRows(table)
        packed = made
        return made
    }
}
