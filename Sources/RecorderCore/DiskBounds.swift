/// How much of the disk a session may use: free space it leaves, bytes its output folder may hold.
///
/// A session that would cross either ends cleanly as `disk-full`, unless `deleteUploadedParts` lets
/// it first delete the oldest parts the upload hook confirmed (`DiskBudget`).
public struct DiskBounds: Sendable, Equatable, Codable {
    /// Bytes left free on the output's file system (`min_free`).
    public var minFreeBytes: Int64?
    /// Bytes the output folder may hold, every file in it counted (`quota`).
    public var quotaBytes: Int64?
    /// Delete the oldest uploaded parts of the session rather than end it (`delete_uploaded_parts`).
    public var deleteUploadedParts: Bool

    /// Ranges `validate` enforces.
    public enum Limits {
        public static let minFreeBytes: ClosedRange<Int64> = 0...(1 << 50)
        public static let quotaBytes: ClosedRange<Int64> = (1 << 20)...(1 << 60)
    }

    public init(minFreeBytes: Int64? = nil, quotaBytes: Int64? = nil, deleteUploadedParts: Bool = false) {
        self.minFreeBytes = minFreeBytes
        self.quotaBytes = quotaBytes
        self.deleteUploadedParts = deleteUploadedParts
    }

    enum CodingKeys: String, CodingKey {
        case minFreeBytes = "min_free", quotaBytes = "quota", deleteUploadedParts = "delete_uploaded_parts"
    }

    /// True when a bound is set.
    public var bounds: Bool { minFreeBytes != nil || quotaBytes != nil }

    /// Checks both bounds; the message names the setting and the range.
    public func validate() throws(RecorderError) {
        if let minFreeBytes, !Limits.minFreeBytes.contains(minFreeBytes) {
            throw .invalidConfiguration("min_free must be 0 to \(ByteSize.describe(Limits.minFreeBytes.upperBound)), got \(minFreeBytes) bytes")
        }
        if let quotaBytes, !Limits.quotaBytes.contains(quotaBytes) {
            throw .invalidConfiguration("quota must be \(ByteSize.describe(Limits.quotaBytes.lowerBound)) to \(ByteSize.describe(Limits.quotaBytes.upperBound)), got \(quotaBytes) bytes")
        }
    }
}
