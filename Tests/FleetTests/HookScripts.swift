import Foundation
import Logging
import RecorderCore
import Recording

/// Hook programs for the upload tests: /bin/sh scripts written to a temporary folder.
struct HookScripts {
    let directory: URL

    /// Writes `body` as an executable script and returns its path.
    func script(_ name: String, _ body: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    /// Copies `$1` into `destination`, writes every argument on its own line to `destination/args-N`.
    func copying(to destination: String) throws -> String {
        try script("copy.sh", """
            set -e
            cp "$1" "\(destination)/"
            for a in "$@"; do printf '%s\\n' "$a"; done > "\(destination)/args-$3"
            """)
    }
}

/// Drives a scheduler until `done` holds or a generous deadline passes; returns every change seen.
func pollUntil(_ scheduler: UploadScheduler, seconds: Double = 60, _ done: ([UploadScheduler.Change]) -> Bool) -> [UploadScheduler.Change] {
    var changes: [UploadScheduler.Change] = []
    let deadline = MonotonicClock.now() + Int64(seconds * 1e9)
    while MonotonicClock.now() < deadline {
        changes += scheduler.poll(now: MonotonicClock.now())
        if done(changes) { break }
        usleep(20_000)
    }
    return changes
}

/// A sealed part row for `file` (fabricated: the scheduler only needs its number and name).
func sealedPart(_ number: Int, session: String) -> SessionManifest.Part {
    SessionManifest.Part(number: number, file: SessionManifest.partFileName(session: session, number: number),
                         state: "sealed", previousPartLastTick: -1, bytes: 100)
}

let testLogger = Logger(label: "fleet-tests")
