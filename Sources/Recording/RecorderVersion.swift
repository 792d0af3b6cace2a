/// The recorder's version, stored in every file it writes.
public enum RecorderVersion {
    public static let current = "0.1.0"
}
