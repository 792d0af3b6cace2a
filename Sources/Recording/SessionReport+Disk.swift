import RecorderCore

extension SessionReport {
    /// How close a session is to its disk bounds (`status`).
    public struct Disk: Sendable, Codable, Equatable {
        public var freeBytes: Int64?
        public var minFreeBytes: Int64?
        public var quotaBytes: Int64?
        /// Bytes of the output folder, the part being written included.
        public var quotaUsedBytes: Int64?
        public var quotaLeftBytes: Int64?
        /// Bytes that may still be written before a bound ends the session.
        public var headroomBytes: Int64?

        /// The budget's figures now; `activeFileBytes` is the size of the file being written.
        init(budget: DiskBudget, freeBytes: Int64?, activeFileBytes: Int64) {
            self.freeBytes = freeBytes
            minFreeBytes = budget.bounds.minFreeBytes
            quotaBytes = budget.bounds.quotaBytes
            if let quota = budget.bounds.quotaBytes {
                let used = budget.otherFolderBytes + activeFileBytes
                quotaUsedBytes = used
                quotaLeftBytes = quota - used
            }
            headroomBytes = budget.headroom(freeBytes: freeBytes, activeFileBytes: activeFileBytes)
        }

        /// `12.0 GiB free (min_free 2.0 GiB), quota 3.1 GiB of 10.0 GiB used`.
        public var summary: String {
            var items: [String] = []
            if let freeBytes { items.append("\(ByteSize.describe(freeBytes)) free" + (minFreeBytes.map { " (min_free \(ByteSize.describe($0)))" } ?? "")) }
            if let quotaBytes, let quotaUsedBytes { items.append("quota \(ByteSize.describe(quotaUsedBytes)) of \(ByteSize.describe(quotaBytes)) used") }
            if let headroomBytes { items.append("\(ByteSize.describe(headroomBytes)) headroom") }
            return items.joined(separator: ", ")
        }
    }
}
