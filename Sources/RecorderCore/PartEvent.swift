/// What the writer tells the part keeper (`rec-parts`) about a split session's part files.
///
/// Sent through a `BoundedMailbox` right after the writer opened or sealed a part, and once when the
/// session ends; the keeper turns them into `NAME.manifest.json`, so the writer never writes it.
public enum PartEvent: Sendable, Equatable {
    /// A part file was renamed into place and receives data (`state` "recording").
    case opened(SessionManifest.Part)
    /// A part was sealed (or repaired after a write error); the row carries its final ticks and counts.
    case sealed(SessionManifest.Part)
    /// The writer has finished: no part follows. `cleanShutdown` is false when the last part needed repair.
    case ended(reason: EndReason, detail: String?, cleanShutdown: Bool)
}
