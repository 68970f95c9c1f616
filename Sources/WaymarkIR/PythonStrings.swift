extension String.UnicodeScalarView {
    /// Python's `in` on strings: by code points, and the empty string is in every string
    /// (Swift's `contains` compares characters and finds no empty string).
    public func contains(subsequence other: String.UnicodeScalarView) -> Bool {
        let haystack = Array(self)
        let needle = Array(other)
        guard needle.count <= haystack.count else { return false }
        if needle.isEmpty { return true }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<start + needle.count]) == needle { return true }
        }
        return false
    }
}
