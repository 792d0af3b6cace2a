import Foundation
import Logging
import RecorderCore
import Synchronization

/// Owns a split session's `NAME.manifest.json` on its own thread (`rec-parts`): applies the writer's
/// `PartEvent`s and rewrites the manifest atomically after each change, off the recording threads.
///
/// It is also the seam for work that follows a part being sealed (an upload hook, disk bounds): an
/// `Extension` is called on this thread only, when a part is sealed, every `pollIntervalNs`, and once
/// at the end with a deadline. Whatever it changes in the manifest is written out by the keeper; an
/// extension that blocks delays only the manifest, never capture, input, state or the writer.
public final class PartKeeper: Sendable {
    public static let threadName = "rec-parts"
    /// How often extensions are polled (and how long the thread sleeps when idle).
    public static let pollIntervalNs: Int64 = 100_000_000
    /// Messages the writer may queue; one part costs two, so this is never reached in practice.
    public static let mailboxCapacity = 1024

    /// Work that follows the parts of a session; every method runs on `rec-parts`.
    public protocol Extension: AnyObject, Sendable {
        /// A part was sealed; `manifest` already lists it as sealed. Return true when `manifest` was changed.
        func partSealed(_ part: SessionManifest.Part, manifest: inout SessionManifest) -> Bool
        /// Called every `pollIntervalNs` (CLOCK_MONOTONIC `now`); return true when `manifest` was changed.
        func poll(now: Int64, manifest: inout SessionManifest) -> Bool
        /// The session has ended: finish or give up by `deadline` (CLOCK_MONOTONIC ns). Return true
        /// when `manifest` was changed.
        func drain(deadline: Int64, manifest: inout SessionManifest) -> Bool
    }

    /// Where the writer posts part events.
    public let mailbox: BoundedMailbox<PartEvent>
    /// The manifest's path (`NAME.manifest.json` beside the parts).
    public let path: String
    private let extensions: [any Extension]
    private let logger: Logger
    /// The manifest as last applied; read by `status` (the lock is never held across I/O).
    private let current: Mutex<SessionManifest>
    private let stopRequested = Atomic<Bool>(false)
    /// How long `drain` may take once the session has ended.
    private let drainTimeoutNs: Int64

    public init(manifest: SessionManifest, path: String, extensions: [any Extension] = [], logger: Logger,
                drainTimeoutNs: Int64 = 10_000_000_000) {
        self.path = path
        self.extensions = extensions
        self.logger = logger
        self.drainTimeoutNs = drainTimeoutNs
        mailbox = BoundedMailbox(capacity: Self.mailboxCapacity)
        current = Mutex(manifest)
    }

    /// The manifest as the keeper last applied it.
    public var manifest: SessionManifest { current.withLock { $0 } }

    /// The file of the part now being written (nil before the first part opened).
    public var currentPartFile: String? {
        current.withLock { manifest in manifest.parts.last(where: { $0.state == "recording" })?.file ?? manifest.parts.last?.file }
    }

    /// Asks `run` to return once the `ended` event and the extensions' drain are done (or right away
    /// when the writer never sends `ended`, e.g. a failed start).
    public func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        mailbox.doorbell.ring()
    }

    /// The thread body: apply events, poll extensions, rewrite the manifest on change, until the session ends.
    public func run() {
        var manifest = self.manifest
        var ended = false
        while true {
            let seen = mailbox.doorbell.sequence
            var changed = false
            for event in mailbox.drain() {
                changed = apply(event, to: &manifest) || changed
                if case .ended = event { ended = true }
            }
            let now = MonotonicClock.now()
            for item in extensions { changed = item.poll(now: now, manifest: &manifest) || changed }
            if changed { publish(manifest) }
            if ended || stopRequested.load(ordering: .acquiring) && mailbox.count == 0 { break }
            mailbox.doorbell.wait(seen: seen, timeoutNanoseconds: Self.pollIntervalNs)
        }
        let deadline = MonotonicClock.now() + drainTimeoutNs
        var changed = false
        for item in extensions { changed = item.drain(deadline: deadline, manifest: &manifest) || changed }
        if changed { publish(manifest) }
    }

    /// Applies one event; true when the manifest changed.
    private func apply(_ event: PartEvent, to manifest: inout SessionManifest) -> Bool {
        switch event {
        case .opened(let part), .sealed(let part):
            if let index = manifest.parts.firstIndex(where: { $0.number == part.number }) {
                manifest.parts[index] = part
            } else {
                manifest.parts.append(part)
            }
            if case .sealed = event {
                for item in extensions { _ = item.partSealed(part, manifest: &manifest) }
            }
        case .ended(let reason, let detail, _):
            manifest.state = "ended"
            manifest.endReason = reason.rawValue
            manifest.endDetail = detail
        }
        return true
    }

    /// Stores the manifest for `status` and writes it to disk (outside the lock).
    private func publish(_ manifest: SessionManifest) {
        current.withLock { $0 = manifest }
        do {
            try manifest.write(to: path)
        } catch {
            logger.error("cannot write the session manifest: \(error.description)")
        }
    }
}
