// HDR histogram with HdrHistogram's exact layout: one writer records, any thread reads without locks.
import Glibc
import Synchronization

/// A high-dynamic-range histogram of `UInt64` values (nanoseconds by default), laid out exactly like
/// HdrHistogram so that percentiles, equivalent-value ranges and `.hgrm` output agree with it.
///
/// Layout. `subBucketCount = 2^⌈log2(2·10^significantFigures)⌉` linear slots per bucket, with unit
/// `2^unitMagnitude` (`unitMagnitude = ⌊log2 lowestDiscernibleValue⌋`); each bucket is twice as coarse as
/// the one before. Bucket 0 uses all its slots; later buckets use only their top half, the bottom half being
/// covered at finer resolution by the buckets below. For a value `v`:
///
///     bucket    b = 64 − unitMagnitude − log2(subBucketCount) − lzcnt(v | subBucketMask)
///     sub       s = v >> (b + unitMagnitude)
///     index     i = (b + 1)·subBucketHalfCount + (s − subBucketHalfCount)
///
/// so values below the unit land in slot 0, and every slot spans at most 1/subBucketHalfCount of its values
/// once past `subBucketCount` units.
///
/// Threading. Exactly one thread records, resets and merges into a histogram. Slots, total, min and max are
/// atomics that the writer updates with a relaxed load and a relaxed store (no read-modify-write is needed
/// with a single writer, and it is several times cheaper). Any other thread may read with relaxed loads at
/// any time; it sees every slot at some recent value, which is what a progress display needs. `copy()` turns
/// such a view into a self-consistent snapshot for reports.
public final class Histogram: @unchecked Sendable {
    public let lowestDiscernibleValue: UInt64
    public let highestTrackableValue: UInt64
    public let significantFigures: Int
    /// Number of buckets, as HdrHistogram counts them (printed in the `.hgrm` footer).
    public let bucketCount: Int
    /// Linear slots per bucket (a power of two).
    public let subBucketCount: Int

    let subBucketHalfCount: Int
    let subBucketHalfCountMagnitude: Int
    let unitMagnitude: Int
    /// Every value below `subBucketCount` units has these bits in common with zero: OR-ing them in maps
    /// all of bucket 0 to the same leading-zero count.
    let subBucketMask: UInt64
    let leadingZeroCountBase: Int
    let countsLength: Int

    private let counts: UnsafeMutablePointer<Atomic<UInt64>>
    private let total = Atomic<UInt64>(0)
    /// Raw extremes, as recorded; reported through the equivalent-value functions like HdrHistogram does.
    private let maxRecorded = Atomic<UInt64>(0)
    private let minNonZeroRecorded = Atomic<UInt64>(.max)

    /// - Parameters:
    ///   - lowestDiscernibleValue: values below it share slot 0; rounded down to a power of two (the unit).
    ///     The default, 1 µs in nanoseconds, gives 512 ns resolution up to ~1 ms and 3 figures beyond.
    ///   - highestTrackableValue: larger values are recorded as this value (and `record` returns false).
    ///   - significantFigures: decimal digits of resolution kept across the range, 0...5.
    public init(
        lowestDiscernibleValue: UInt64 = 1_000,
        highestTrackableValue: UInt64 = 3_600_000_000_000,
        significantFigures: Int = 3
    ) {
        precondition(lowestDiscernibleValue >= 1, "lowestDiscernibleValue must be >= 1")
        precondition((0...5).contains(significantFigures), "significantFigures must be in 0...5")
        precondition(highestTrackableValue <= UInt64(Int64.max), "highestTrackableValue must fit in an Int64")
        precondition(lowestDiscernibleValue <= highestTrackableValue / 2,
                     "highestTrackableValue must be >= 2 * lowestDiscernibleValue")
        self.lowestDiscernibleValue = lowestDiscernibleValue
        self.highestTrackableValue = highestTrackableValue
        self.significantFigures = significantFigures

        // "±1 at 1000" also allows "±2 at 2000" but not at 1999, so single-unit resolution is kept up to
        // 2·10^figures, rounded up to a power of two for direct indexing.
        var largestValueWithSingleUnitResolution: UInt64 = 2
        for _ in 0..<significantFigures { largestValueWithSingleUnitResolution *= 10 }
        let subBucketCountMagnitude = 64 - (largestValueWithSingleUnitResolution - 1).leadingZeroBitCount
        subBucketHalfCountMagnitude = max(subBucketCountMagnitude, 1) - 1
        unitMagnitude = 63 - lowestDiscernibleValue.leadingZeroBitCount
        precondition(unitMagnitude + subBucketHalfCountMagnitude <= 61,
                     "significantFigures cannot be represented beyond lowestDiscernibleValue in 64 bits")
        subBucketCount = 1 << (subBucketHalfCountMagnitude + 1)
        subBucketHalfCount = subBucketCount / 2
        subBucketMask = UInt64(subBucketCount - 1) << UInt64(unitMagnitude)
        leadingZeroCountBase = 64 - unitMagnitude - (subBucketHalfCountMagnitude + 1)

        var smallestUntrackableValue = UInt64(subBucketCount) << UInt64(unitMagnitude)
        var bucketsNeeded = 1
        while smallestUntrackableValue <= highestTrackableValue {
            if smallestUntrackableValue > UInt64(Int64.max) / 2 {
                bucketsNeeded += 1
                break
            }
            smallestUntrackableValue <<= 1
            bucketsNeeded += 1
        }
        bucketCount = bucketsNeeded
        // bucketCount top halves plus the bottom half of bucket 0.
        countsLength = (bucketCount + 1) * subBucketHalfCount

        // An anonymous mapping: the kernel gives a page of zeroed slots on its first write, so a
        // histogram holds the memory of the slots it records into (one stage of a 2,000-stage plan:
        // a few KiB, not 192 KiB) and the recording path stays one store. Zero bytes are zero counts.
        let bytes = countsLength * MemoryLayout<Atomic<UInt64>>.stride
        guard let mapping = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              mapping != MAP_FAILED else {
            preconditionFailure("mmap of \(bytes) bytes for a histogram: \(errnoDescription(currentErrno()))")
        }
        counts = mapping.bindMemory(to: Atomic<UInt64>.self, capacity: countsLength)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(counts), countsLength * MemoryLayout<Atomic<UInt64>>.stride)
    }

    // MARK: Recording (the one writer thread)

    /// Records one value. Returns false if it was above `highestTrackableValue`; it is then recorded as
    /// `highestTrackableValue`, so nothing measured goes missing from the counts.
    @discardableResult @inline(__always)
    public func record(_ value: UInt64) -> Bool {
        record(value, count: 1)
    }

    /// Records `count` occurrences of `value`; clamps like `record(_:)`. Inlined: a call would make
    /// its caller retain the histogram around it (read from a class's property), per record.
    @discardableResult @inline(__always)
    public func record(_ value: UInt64, count: UInt64) -> Bool {
        let inRange = value <= highestTrackableValue
        let clamped = inRange ? value : highestTrackableValue
        let slot = counts + countsIndex(for: clamped)
        slot.pointee.store(slot.pointee.load(ordering: .relaxed) &+ count, ordering: .relaxed)
        total.store(total.load(ordering: .relaxed) &+ count, ordering: .relaxed)
        if clamped > maxRecorded.load(ordering: .relaxed) {
            maxRecorded.store(clamped, ordering: .relaxed)
        }
        if clamped != 0 && clamped < minNonZeroRecorded.load(ordering: .relaxed) {
            minNonZeroRecorded.store(clamped, ordering: .relaxed)
        }
        return inRange
    }

    /// Clears everything. Only the writer may call it.
    public func reset() {
        // Every count lies between the extremes' slots: the once-a-second reset of the interval
        // histogram clears what the second spanned, not all 24,576 slots.
        for i in occupiedIndices() {
            counts[i].store(0, ordering: .relaxed)
        }
        total.store(0, ordering: .relaxed)
        maxRecorded.store(0, ordering: .relaxed)
        minNonZeroRecorded.store(.max, ordering: .relaxed)
    }

    /// Adds `other`'s counts to this histogram. `other` must have the same layout (same unit, sub-bucket
    /// count and number of slots); nobody else may be writing to `self` meanwhile. `other` may be live.
    public func merge(_ other: Histogram) {
        precondition(unitMagnitude == other.unitMagnitude && subBucketCount == other.subBucketCount
                         && countsLength == other.countsLength,
                     "merge needs histograms of the same layout")
        var added: UInt64 = 0
        for i in 0..<countsLength {
            let count = other.counts[i].load(ordering: .relaxed)
            if count == 0 { continue }
            counts[i].store(counts[i].load(ordering: .relaxed) &+ count, ordering: .relaxed)
            added &+= count
        }
        // The sum of the slots read, not other.totalCount, so a live `other` cannot make us inconsistent.
        total.store(total.load(ordering: .relaxed) &+ added, ordering: .relaxed)
        let otherMax = other.maxRecorded.load(ordering: .relaxed)
        if otherMax > maxRecorded.load(ordering: .relaxed) {
            maxRecorded.store(otherMax, ordering: .relaxed)
        }
        let otherMin = other.minNonZeroRecorded.load(ordering: .relaxed)
        if otherMin < minNonZeroRecorded.load(ordering: .relaxed) {
            minNonZeroRecorded.store(otherMin, ordering: .relaxed)
        }
    }

    /// A snapshot whose total is exactly the sum of its slots and whose min and max lie in its lowest and
    /// highest occupied slots, even when taken while the writer records.
    public func copy() -> Histogram {
        let snapshot = Histogram(lowestDiscernibleValue: lowestDiscernibleValue,
                                 highestTrackableValue: highestTrackableValue,
                                 significantFigures: significantFigures)
        var sum: UInt64 = 0
        var lowestIndex = -1
        var highestIndex = -1
        for i in 0..<countsLength {
            let count = counts[i].load(ordering: .relaxed)
            if count == 0 { continue }
            snapshot.counts[i].store(count, ordering: .relaxed)
            sum &+= count
            if lowestIndex < 0 { lowestIndex = i }
            highestIndex = i
        }
        snapshot.total.store(sum, ordering: .relaxed)
        if highestIndex < 0 { return snapshot }

        // The writer stores min/max after the slot, and relaxed loads promise no order between locations,
        // so the extremes read here may belong to a slot we saw empty, or lag one we saw filled.
        let loadedMax = maxRecorded.load(ordering: .relaxed)
        let maxValue = countsIndex(for: loadedMax) == highestIndex ? loadedMax : valueFromIndex(highestIndex)
        snapshot.maxRecorded.store(maxValue, ordering: .relaxed)
        let loadedMin = minNonZeroRecorded.load(ordering: .relaxed)
        var minValue = loadedMin
        // With slot 0 occupied the reported minimum is 0 whatever the raw minimum says.
        if lowestIndex > 0 && (loadedMin == .max || countsIndex(for: loadedMin) != lowestIndex) {
            minValue = valueFromIndex(lowestIndex)
        }
        snapshot.minNonZeroRecorded.store(minValue, ordering: .relaxed)
        return snapshot
    }

    // MARK: Reading (any thread, relaxed loads)

    public var totalCount: UInt64 {
        total.load(ordering: .relaxed)
    }

    /// Lowest equivalent value of the smallest recorded value; 0 when empty or when slot 0 is occupied.
    public var minValue: UInt64 {
        if counts[0].load(ordering: .relaxed) > 0 { return 0 }
        let raw = minNonZeroRecorded.load(ordering: .relaxed)
        return raw == .max ? 0 : lowestEquivalentValue(raw)
    }

    /// Highest equivalent value of the largest recorded value; 0 when empty.
    public var maxValue: UInt64 {
        let raw = maxRecorded.load(ordering: .relaxed)
        return raw == 0 ? 0 : highestEquivalentValue(raw)
    }

    /// Mean of the slot medians weighted by their counts (HdrHistogram's getMean); 0 when empty.
    public var mean: Double {
        moments(withDeviation: false).mean
    }

    /// Population standard deviation of the slot medians (HdrHistogram's getStdDeviation); 0 when empty.
    public var stdDeviation: Double {
        moments().stdDeviation
    }

    /// HdrHistogram's getValueAtPercentile: the highest equivalent value of the slot holding the sample of
    /// rank `max(1, ⌈p/100 · totalCount⌉)` (nearest rank); for p = 0 the lowest equivalent value of the first
    /// occupied slot. `percentile` is clamped to 0...100. Returns 0 when empty.
    public func valueAtPercentile(_ percentile: Double) -> UInt64 {
        precondition(!percentile.isNaN, "percentile must be a number")
        let count = totalCount
        if count == 0 { return 0 }
        let rank = Self.nearestRank(percentile, of: count)
        var cumulative: UInt64 = 0
        var lastOccupied = -1
        for i in occupiedIndices() {
            let slotCount = counts[i].load(ordering: .relaxed)
            if slotCount == 0 { continue }
            cumulative &+= slotCount
            lastOccupied = i
            if cumulative >= rank {
                let value = valueFromIndex(i)
                return percentile == 0 ? value : highestEquivalentValue(value)
            }
        }
        // Only reachable while the writer runs ahead of us: the total was read before the slots filled.
        return lastOccupied < 0 ? 0 : highestEquivalentValue(valueFromIndex(lastOccupied))
    }

    /// The rank of the sample at `percentile` among `count`: max(1, ⌈p/100 · count⌉). One ulp down
    /// first, so that FP noise in p·n/100 cannot push an exact rank up to the next sample.
    @inline(__always)
    static func nearestRank(_ percentile: Double, of count: UInt64) -> UInt64 {
        let requested = min(max(percentile.nextDown, 0), 100)
        return max(1, UInt64((requested * Double(count) / 100).rounded(.up)))
    }

    /// `valueAtPercentile` of each of `percentiles` (ascending), in one walk over the slots: the
    /// per-second sample asks for eleven of them at once.
    public func valuesAtPercentiles(_ percentiles: [Double]) -> [UInt64] {
        var values = [Double](repeating: 0, count: percentiles.count)
        valuesAtPercentiles(percentiles, into: &values, divisor: 1)
        return values.map { UInt64($0) }
    }

    /// The same, each value divided by `divisor` (1e6: ms from ns), written into `values` (as many
    /// as `percentiles`), so the once-a-second sample allocates no array for it.
    public func valuesAtPercentiles(_ percentiles: [Double], into values: inout [Double], divisor: Double) {
        _ = valuesAtPercentilesAndMean(percentiles, into: &values, divisor: divisor)
    }

    /// `valuesAtPercentiles(_:into:divisor:)` and `mean` (returned, undivided) in ONE walk over the
    /// occupied slots, with the same sums in the same order, so both come out bit for bit as the two
    /// walks give them: the per-second sample reads the run's latency so every second, on the loop thread.
    func valuesAtPercentilesAndMean(_ percentiles: [Double], into values: inout [Double], divisor: Double) -> Double {
        precondition(values.count == percentiles.count, "one value per percentile")
        precondition(zip(percentiles, percentiles.dropFirst()).allSatisfy { $0 <= $1 }, "percentiles must ascend")
        for index in values.indices { values[index] = 0 }
        let count = totalCount
        guard count > 0 else { return 0 }
        var next = 0
        var nextRank = percentiles.isEmpty ? UInt64.max : Self.nearestRank(percentiles[0], of: count)
        var cumulative: UInt64 = 0
        var lastOccupied = -1
        var weightedSum = 0.0
        var seen: UInt64 = 0
        for i in occupiedIndices() {
            let slotCount = counts[i].load(ordering: .relaxed)
            if slotCount == 0 { continue }
            let value = valueFromIndex(i)
            weightedSum += Double(medianEquivalentValue(value)) * Double(slotCount)
            seen &+= slotCount
            cumulative &+= slotCount
            lastOccupied = i
            while cumulative >= nextRank {
                values[next] = Double(percentiles[next] == 0 ? value : highestEquivalentValue(value)) / divisor
                next += 1
                nextRank = next == percentiles.count ? UInt64.max : Self.nearestRank(percentiles[next], of: count)
            }
        }
        // Only while the writer runs ahead of us, as in `valueAtPercentile`.
        let last = lastOccupied < 0 ? 0 : highestEquivalentValue(valueFromIndex(lastOccupied))
        while next < percentiles.count {
            values[next] = Double(last) / divisor
            next += 1
        }
        return seen == 0 ? 0 : weightedSum / Double(seen)
    }

    /// The slots that can hold counts: from the lowest recorded value's (slot 0 when it holds any) to
    /// the highest's. Walks over them instead of all the slots cost what the data spans, not the
    /// histogram's 1 µs–1 h range. A live reader may miss a value recorded since it read the extremes.
    @inline(__always)
    private func occupiedIndices() -> Range<Int> {
        let highest = maxRecorded.load(ordering: .relaxed)
        let lowestNonZero = minNonZeroRecorded.load(ordering: .relaxed)
        let upper = min(countsIndex(for: min(highest, highestTrackableValue)) + 1, countsLength)
        let lower = lowestNonZero == .max || counts[0].load(ordering: .relaxed) > 0 ? 0 : countsIndex(for: lowestNonZero)
        return lower..<max(lower, upper)
    }

    /// Count recorded in the slot that `value` falls in (0 beyond the last slot).
    public func countAtValue(_ value: UInt64) -> UInt64 {
        let index = countsIndex(for: value)
        return index < countsLength ? counts[index].load(ordering: .relaxed) : 0
    }

    /// Calls `body` for each occupied slot in ascending order with its value range and count.
    public func forEachRecordedBucket(
        _ body: (_ valueLow: UInt64, _ valueHigh: UInt64, _ count: UInt64) -> Void
    ) {
        for i in 0..<countsLength {
            let count = counts[i].load(ordering: .relaxed)
            if count == 0 { continue }
            let low = valueFromIndex(i)
            body(low, highestEquivalentValue(low), count)
        }
    }

    func count(atIndex index: Int) -> UInt64 {
        counts[index].load(ordering: .relaxed)
    }

    /// Calls `body` with each occupied slot's index and count, ascending, walking only the span
    /// between the recorded extremes.
    func forEachOccupiedSlot(_ body: (_ index: Int, _ count: UInt64) -> Void) {
        for i in occupiedIndices() {
            let count = counts[i].load(ordering: .relaxed)
            if count != 0 { body(i, count) }
        }
    }

    /// `reset()`, appending each occupied slot as `index << 48 | count` to `slots` in the same walk
    /// (a count of 2^48 or more goes as several entries of one index): the interval log's capture of
    /// a second, for the price of the appends. Needs fewer than 65,536 slots (the default layout has
    /// 24,576). Only the writer may call it.
    func resetAppendingOccupied(to slots: inout [UInt64]) {
        precondition(countsLength <= 1 << 16, "slot indices must fit in 16 bits")
        let countMask: UInt64 = (1 << 48) - 1
        let occupied = occupiedIndices()
        var i = occupied.lowerBound
        while i < occupied.upperBound {
            // Most of the span is empty (an ITL histogram spans thousands of slots and fills a hundred):
            // four slots at a time with one branch, several times cheaper than one by one.
            if i + 4 <= occupied.upperBound
                && (counts[i].load(ordering: .relaxed) | counts[i + 1].load(ordering: .relaxed)
                    | counts[i + 2].load(ordering: .relaxed) | counts[i + 3].load(ordering: .relaxed)) == 0 {
                i += 4
                continue
            }
            var count = counts[i].load(ordering: .relaxed)
            if count != 0 {
                counts[i].store(0, ordering: .relaxed)
                let tag = UInt64(i) << 48
                while count > countMask {
                    slots.append(tag | countMask)
                    count -= countMask
                }
                slots.append(tag | count)
            }
            i += 1
        }
        total.store(0, ordering: .relaxed)
        maxRecorded.store(0, ordering: .relaxed)
        minNonZeroRecorded.store(.max, ordering: .relaxed)
    }

    /// Mean and standard deviation over slot medians, dividing by the counts actually read so that a live
    /// histogram cannot produce a mean outside its own range.
    /// `withDeviation` false skips the second walk: the per-second sample reads the run's mean
    /// latency every second and never its deviation.
    func moments(withDeviation: Bool = true) -> (mean: Double, stdDeviation: Double) {
        var weightedSum = 0.0
        var seen: UInt64 = 0
        let occupied = occupiedIndices()
        for i in occupied {
            let count = counts[i].load(ordering: .relaxed)
            if count == 0 { continue }
            weightedSum += Double(medianEquivalentValue(valueFromIndex(i))) * Double(count)
            seen &+= count
        }
        if seen == 0 { return (0, 0) }
        let mean = weightedSum / Double(seen)
        guard withDeviation else { return (mean, 0) }
        var deviationSum = 0.0
        seen = 0
        for i in occupied {
            let count = counts[i].load(ordering: .relaxed)
            if count == 0 { continue }
            let deviation = Double(medianEquivalentValue(valueFromIndex(i))) - mean
            deviationSum += deviation * deviation * Double(count)
            seen &+= count
        }
        return (mean, (deviationSum / Double(seen)).squareRoot())
    }

    // MARK: Equivalent values (HdrHistogram's names)

    /// Smallest value counted in the same slot as `value`.
    public func lowestEquivalentValue(_ value: UInt64) -> UInt64 {
        let bucket = bucketIndex(for: value)
        return UInt64(subBucketIndex(for: value, bucketIndex: bucket)) &<< UInt64(bucket + unitMagnitude)
    }

    /// Largest value counted in the same slot as `value`.
    public func highestEquivalentValue(_ value: UInt64) -> UInt64 {
        // Wrapping: the slot holding UInt64.max ends at 2^64, so "next − 1" still comes out right.
        nextNonEquivalentValue(value) &- 1
    }

    /// Middle of the slot holding `value` (rounded up); what mean and standard deviation use.
    public func medianEquivalentValue(_ value: UInt64) -> UInt64 {
        lowestEquivalentValue(value) &+ (sizeOfEquivalentValueRange(value) >> 1)
    }

    /// Smallest value counted in the slot after the one holding `value`.
    public func nextNonEquivalentValue(_ value: UInt64) -> UInt64 {
        lowestEquivalentValue(value) &+ sizeOfEquivalentValueRange(value)
    }

    /// Width of the slot holding `value`.
    public func sizeOfEquivalentValueRange(_ value: UInt64) -> UInt64 {
        let bucket = bucketIndex(for: value)
        let subBucket = subBucketIndex(for: value, bucketIndex: bucket)
        let adjustedBucket = subBucket >= subBucketCount ? bucket + 1 : bucket
        return 1 &<< UInt64(unitMagnitude + adjustedBucket)
    }

    public func valuesAreEquivalent(_ value1: UInt64, _ value2: UInt64) -> Bool {
        lowestEquivalentValue(value1) == lowestEquivalentValue(value2)
    }

    // MARK: Index maths
    // Inlined, every one: a call left in `record` makes its callers retain the histogram around it.

    @inline(__always)
    func bucketIndex(for value: UInt64) -> Int {
        leadingZeroCountBase - (value | subBucketMask).leadingZeroBitCount
    }

    @inline(__always)
    func subBucketIndex(for value: UInt64, bucketIndex: Int) -> Int {
        // In buckets above 0 this lands in the top half: a value in the bottom half would have fitted the
        // bucket below, which bucketIndex(for:) would have picked.
        Int(truncatingIfNeeded: value &>> UInt64(bucketIndex + unitMagnitude))
    }

    @inline(__always)
    func countsIndex(bucketIndex: Int, subBucketIndex: Int) -> Int {
        // Bucket b's used top half starts at (b + 1)·halfCount; bucket 0's bottom half sits below it.
        ((bucketIndex + 1) << subBucketHalfCountMagnitude) + (subBucketIndex - subBucketHalfCount)
    }

    @inline(__always)
    func countsIndex(for value: UInt64) -> Int {
        let bucket = bucketIndex(for: value)
        return countsIndex(bucketIndex: bucket, subBucketIndex: subBucketIndex(for: value, bucketIndex: bucket))
    }

    /// Lowest value of slot `index`.
    func valueFromIndex(_ index: Int) -> UInt64 {
        var bucket = (index >> subBucketHalfCountMagnitude) - 1
        var subBucket = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
        if bucket < 0 {
            subBucket -= subBucketHalfCount
            bucket = 0
        }
        return UInt64(subBucket) &<< UInt64(bucket + unitMagnitude)
    }
}
