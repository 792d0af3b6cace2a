extension SessionManifest {
    /// Parts per upload state ("queued", "running", "retrying", "uploaded", "failed", "skipped"), plus
    /// "deleted" for parts deleted after their upload; parts the hook never saw are not counted.
    public var uploadCounts: [String: Int] {
        var counts: [String: Int] = [:]
        for part in parts {
            guard let upload = part.upload else { continue }
            counts[upload.state, default: 0] += 1
            if upload.deleted == true { counts["deleted", default: 0] += 1 }
        }
        return counts
    }

    /// Parts closed for good: sealed, or repaired after a crash.
    public var closedPartCount: Int { parts.count(where: { $0.state == "sealed" || $0.state == "recovered" }) }
}
