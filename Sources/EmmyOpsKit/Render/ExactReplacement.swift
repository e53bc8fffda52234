extension String {
    /// Every occurrence of `target` replaced by `replacement`, left to right, not overlapping,
    /// matched on exact UTF-8 bytes. Renderers escape with it: Foundation's
    /// `replacingOccurrences` goes through NSString (a tenth of `render all`'s time), and its
    /// default comparison would pass over a quote followed by a combining mark, which an
    /// escape must not.
    func replacingExactly(_ target: String, with replacement: String) -> String {
        let needle = Array(target.utf8)
        guard let lead = needle.first else { return self }
        let bytes = Array(utf8)
        guard bytes.contains(lead) else { return self }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == lead, index + needle.count <= bytes.count, bytes[index..<(index + needle.count)].elementsEqual(needle) {
                out.append(contentsOf: replacement.utf8)
                index += needle.count
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
