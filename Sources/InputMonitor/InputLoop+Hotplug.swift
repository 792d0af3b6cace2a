#if canImport(Glibc)
import Glibc
#endif
import CLinuxShim
import Foundation
import RecorderCore

/// The `auto` source: every readable `event*` node of the devices folder, and inotify for the ones
/// that come and go. A node that comes back is a new device with a new row id.
extension InputLoop {
    /// Watches the folder, opens what is there, and says so when nothing is readable.
    func startAutomatic() {
        let folder = configuration.devicesDirectory
        watch(folder)
        var names: [String] = []
        var missing = false
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("event") }
        } catch {
            missing = true
        }
        names.sort { (Int($0.dropFirst(5)) ?? Int.max, $0) < (Int($1.dropFirst(5)) ?? Int.max, $1) }
        var opened = 0
        for name in names where openNode(folder + "/" + name, hotplugged: false) { opened += 1 }
        if opened == 0 {
            let why = missing ? "\(folder) does not exist or cannot be listed"
                : names.isEmpty ? "\(folder) has no event* nodes"
                : "none of the \(names.count) event* nodes in \(folder) could be opened"
            let watching = folderWatch >= 0 ? "; watching it for hotplugged devices"
                : parentWatch >= 0 ? "; will watch it if it appears" : ""
            notes.post("no-input-devices", "input auto: no readable input device: \(why)\(watching)")
        }
    }

    /// Starts inotify on `folder` and on its parent, so a folder created after the start (udev
    /// populating /dev/input late, a container given devices later) is watched once it appears.
    /// Without inotify there is no hotplug, which is logged, not fatal.
    private func watch(_ folder: String) {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else {
            logger.warning("inotify_init1 failed (\(errnoText(errno))): no hotplug")
            return
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = fd
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else {
            logger.warning("cannot add the inotify watch to epoll (\(errnoText(errno))): no hotplug")
            Glibc.close(fd)
            return
        }
        inotifyFD = fd
        let parent = (folder as NSString).deletingLastPathComponent
        // A bare relative name ("input") lives in the working directory.
        parentWatch = inotify_add_watch(fd, parent.isEmpty ? "." : parent, UInt32(IN_CREATE | IN_MOVED_TO))
        if parentWatch < 0 { logger.info("cannot watch \(parent) (\(errnoText(errno))): a \(folder) created later goes unnoticed") }
        watchFolder(folder)
        if folderWatch < 0 && parentWatch < 0 {
            epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
            Glibc.close(fd)
            inotifyFD = -1
        }
    }

    /// Adds the watch on the devices folder itself; false while it does not exist.
    @discardableResult
    private func watchFolder(_ folder: String) -> Bool {
        let mask = UInt32(IN_CREATE | IN_ATTRIB | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF)
        folderWatch = inotify_add_watch(inotifyFD, folder, mask)
        if folderWatch < 0 && errno != ENOENT { logger.warning("cannot watch \(folder) (\(errnoText(errno))): no hotplug") }
        return folderWatch >= 0
    }

    /// Opens one node; a failure is logged and noted once per node, never fatal.
    ///
    /// A node that just appeared may not answer yet (udev still setting it up, an emulated node
    /// whose answers are attached after it is created): with `retryLater` its failure is kept
    /// quiet and the node is tried once more `InputLoop.hotplugRetryDelay` later.
    @discardableResult
    func openNode(_ path: String, hotplugged: Bool, retryLater: Bool = false) -> Bool {
        if devicesByFD.values.contains(where: { $0.path == path }) || pendingDevices.contains(where: { $0.path == path }) {
            return true
        }
        switch InputDevice.open(evdevPath: path, id: nextID) {
        case .success(let device):
            nextID &+= 1
            unreadablePaths.remove(path)
            add(device)
            let what = "device \(device.id) '\(device.info.name)' (\(device.info.kind), \(path))"
            if hotplugged { notes.post("device-added", "\(what) plugged in", level: .info) } else { logger.info("recording \(what)") }
            if let degraded = device.degraded { notes.post("device-degraded", "device \(device.id) (\(path)): \(degraded)") }
            if let refusal = device.clockRefusal {
                notes.post("clock-realtime", "device \(device.id) (\(path)) refused \(refusal): its CLOCK_REALTIME stamps are moved to CLOCK_MONOTONIC by the offset measured at each read (within \(device.clockErrorNs) ns)")
            }
            return true
        case .failure(let failure):
            if retryLater && !unreadablePaths.contains(path) {
                retryPaths[path] = MonotonicClock.now() + Self.hotplugRetryDelay
                return false
            }
            if unreadablePaths.insert(path).inserted { notes.post("device-unreadable", failure.message) }
            return false
        }
    }

    /// Opens the hotplugged nodes whose second try is due.
    func retryDueNodes() {
        let now = MonotonicClock.now()
        for (path, due) in retryPaths where due <= now {
            retryPaths[path] = nil
            openNode(path, hotplugged: true)
        }
    }

    /// Reads the inotify queue: new or re-permissioned `event*` nodes are opened, deleted ones closed,
    /// and a devices folder that appears is watched and scanned.
    func handleHotplug() {
        let folder = configuration.devicesDirectory
        let folderName = (folder as NSString).lastPathComponent
        let size = 4096
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        var rescan = false
        var folderGone = false
        var folderAppeared = false
        while true {
            let count = read(inotifyFD, buffer.baseAddress, size)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            var offset = 0
            while offset + 16 <= count {
                let watch = buffer.load(fromByteOffset: offset, as: Int32.self)
                let mask = buffer.load(fromByteOffset: offset + 4, as: UInt32.self)
                let length = Int(buffer.load(fromByteOffset: offset + 12, as: UInt32.self))
                let nameBytes = UnsafeRawBufferPointer(rebasing: buffer[(offset + 16)..<min(offset + 16 + length, count)])
                let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
                offset += 16 + length
                if mask & UInt32(IN_Q_OVERFLOW) != 0 { rescan = true }
                if watch == parentWatch {
                    if name == folderName && mask & UInt32(IN_ISDIR) != 0 && folderWatch < 0 { folderAppeared = true }
                    continue
                }
                guard watch == folderWatch else { continue }
                if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 { folderGone = true }
                guard name.hasPrefix("event") else { continue }
                let path = folder + "/" + name
                if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
                    unreadablePaths.remove(path)
                    retryPaths[path] = nil
                    if let device = devicesByFD.values.first(where: { $0.path == path }) {
                        // Read what it still holds; ENODEV usually closes it first.
                        _ = drain(device)
                        remove(device, reason: "node \(path) deleted")
                    }
                } else if mask & UInt32(IN_CREATE | IN_ATTRIB | IN_MOVED_TO) != 0 {
                    if mask & UInt32(IN_ATTRIB) != 0 && !unreadablePaths.contains(path) { continue }
                    openNode(path, hotplugged: true, retryLater: mask & UInt32(IN_ATTRIB) == 0)
                }
            }
        }
        if folderGone {
            if folderWatch >= 0 { inotify_rm_watch(inotifyFD, folderWatch) }
            folderWatch = -1
            let waiting = parentWatch >= 0 ? "; waiting for it to come back" : ": hotplug watch ended"
            notes.post("device-removed", "\(folder) went away\(waiting)", level: .info)
            // It may already be back (removed and re-created within one read).
            if parentWatch >= 0 && FileManager.default.fileExists(atPath: folder) { folderAppeared = true }
        }
        if folderAppeared && folderWatch < 0 && watchFolder(folder) {
            // Nodes created between the folder and its watch are found by the scan.
            notes.post("devices-folder-appeared", "\(folder) appeared: watching it for devices", level: .info)
            rescan = true
        }
        if rescan, folderWatch >= 0, let names = try? FileManager.default.contentsOfDirectory(atPath: folder) {
            for name in names.sorted() where name.hasPrefix("event") { openNode(folder + "/" + name, hotplugged: true, retryLater: true) }
        }
    }
}
