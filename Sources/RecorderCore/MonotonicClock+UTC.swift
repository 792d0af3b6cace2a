#if canImport(Glibc)
import Glibc
#endif

extension MonotonicClock {
    /// `2026-11-23T09:10:11.123Z`.
    public static func iso8601(utcNs: Int64) -> String {
        var seconds = time_t(utcNs / 1_000_000_000)
        let millis = Int((utcNs % 1_000_000_000) / 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ n: Int) -> String { String(repeating: "0", count: max(0, n - String(v).count)) + String(v) }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}
