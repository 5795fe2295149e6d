extension Array where Element: Comparable {
    /// The middle element in sorted order, the upper of the two for an even count; nil when empty. The benchmarks
    /// report it (rounds are odd by default): a time that one run actually took, unlike a mean of two.
    public var upperMedian: Element? { isEmpty ? nil : sorted()[count / 2] }
}
