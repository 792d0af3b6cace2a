extension String {
    /// The text a C call wrote into `buffer`, up to its first NUL (or the whole buffer without one);
    /// invalid UTF-8 is repaired, never trusted. Unlike `String(cString:)` it never reads past the buffer.
    public init(cBuffer buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
