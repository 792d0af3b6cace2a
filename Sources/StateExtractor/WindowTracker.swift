import CX11Shim
import RecorderCore

/// Finds the focused top-level window and reads its title, class, pid and geometry, on the state thread's connection.
///
/// Focus comes from the root's `_NET_ACTIVE_WINDOW` when a window manager sets it, otherwise from XGetInputFocus
/// (PointerRoot means "the window under the pointer"). From there it climbs to the client window that has a name
/// (`_NET_WM_NAME` or `WM_NAME`), searching just below the top-level window when the focus sits on a WM frame.
final class WindowTracker {
    /// What one query found; `id` 0 means nothing named has focus.
    struct Focus: Equatable {
        var id: UInt64 = 0
        var title = ""
        var wmClass = ""
        var pid: Int32 = 0
        var x: Int32 = 0
        var y: Int32 = 0
        var width: Int32 = 0
        var height: Int32 = 0
    }

    private let display: OpaquePointer
    private let root: Window
    private let netActiveWindow: Atom
    private let netWMName: Atom
    private let netWMPid: Atom
    private let wmName: Atom
    private let wmClass: Atom
    private let stringType: Atom
    private let utf8StringType: Atom

    init(display: OpaquePointer, root: Window) {
        self.display = display
        self.root = root
        netActiveWindow = XInternAtom(display, "_NET_ACTIVE_WINDOW", 0)
        netWMName = XInternAtom(display, "_NET_WM_NAME", 0)
        netWMPid = XInternAtom(display, "_NET_WM_PID", 0)
        wmName = XInternAtom(display, "WM_NAME", 0)
        wmClass = XInternAtom(display, "WM_CLASS", 0)
        stringType = XInternAtom(display, "STRING", 0)
        utf8StringType = XInternAtom(display, "UTF8_STRING", 0)
    }

    /// The focused named window; `pointerChild` is the root child under the pointer (for PointerRoot focus).
    func focusedWindow(pointerChild: Window) -> Focus {
        var start: Window = 0
        if let active = windowProperty(root, netActiveWindow), active != 0 {
            start = active
        } else {
            var focus: Window = 0
            var revert: Int32 = 0
            XGetInputFocus(display, &focus, &revert)
            start = focus == CX11Shim_state_PointerRoot() ? pointerChild : focus
        }
        guard start != 0, start != root, let (window, title) = namedClient(from: start) else { return Focus() }
        var focus = Focus(id: UInt64(window), title: title)
        focus.wmClass = classHint(window)
        focus.pid = Int32(truncatingIfNeeded: windowProperty(window, netWMPid) ?? 0)
        var attributes = XWindowAttributes()
        if XGetWindowAttributes(display, window, &attributes) != 0 {
            var x: Int32 = 0, y: Int32 = 0
            var child: Window = 0
            XTranslateCoordinates(display, window, root, 0, 0, &x, &y, &child)
            focus.x = x
            focus.y = y
            focus.width = attributes.width
            focus.height = attributes.height
        }
        return focus
    }

    /// Climbs from `start` to the first window with a name; below a nameless top-level, looks a few levels down.
    private func namedClient(from start: Window) -> (Window, String)? {
        var window = start
        while window != 0, window != root {
            if let title = title(of: window) { return (window, title) }
            guard let parent = parent(of: window) else { return nil }
            if parent == root { return namedDescendant(of: window, depth: 3) }
            window = parent
        }
        return nil
    }

    private func namedDescendant(of window: Window, depth: Int) -> (Window, String)? {
        guard depth > 0 else { return nil }
        for child in children(of: window) {
            if let title = title(of: child) { return (child, title) }
        }
        for child in children(of: window) {
            if let found = namedDescendant(of: child, depth: depth - 1) { return found }
        }
        return nil
    }

    private func parent(of window: Window) -> Window? {
        var rootReturn: Window = 0, parent: Window = 0
        var children: UnsafeMutablePointer<Window>?
        var count: UInt32 = 0
        guard XQueryTree(display, window, &rootReturn, &parent, &children, &count) != 0 else { return nil }
        if let children { XFree(children) }
        return parent
    }

    private func children(of window: Window) -> [Window] {
        var rootReturn: Window = 0, parent: Window = 0
        var children: UnsafeMutablePointer<Window>?
        var count: UInt32 = 0
        guard XQueryTree(display, window, &rootReturn, &parent, &children, &count) != 0, let children else { return [] }
        defer { XFree(children) }
        return Array(UnsafeBufferPointer(start: children, count: Int(count)))
    }

    /// `_NET_WM_NAME` (UTF-8), else `WM_NAME` (STRING is Latin-1, other encodings read as UTF-8); nil when neither is set.
    private func title(of window: Window) -> String? {
        if let (_, bytes) = rawProperty(window, netWMName), !bytes.isEmpty {
            return String(decoding: bytes, as: UTF8.self)
        }
        guard let (type, bytes) = rawProperty(window, wmName) else { return nil }
        if type == stringType { return String(bytes.map { Character(Unicode.Scalar($0)) }) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// WM_CLASS as `instance.Class` (the X resource notation), "" when unset.
    private func classHint(_ window: Window) -> String {
        guard let (_, bytes) = rawProperty(window, wmClass) else { return "" }
        let parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        return parts.prefix(2).filter { !$0.isEmpty }.joined(separator: ".")
    }

    /// A format-8 property's type and bytes, nil when absent.
    private func rawProperty(_ window: Window, _ atom: Atom) -> (Atom, [UInt8])? {
        var type: Atom = 0
        var format: Int32 = 0
        var count: UInt = 0
        var after: UInt = 0
        var data: UnsafeMutablePointer<UInt8>?
        // 0 = AnyPropertyType; at most 4 KiB of text.
        guard XGetWindowProperty(display, window, atom, 0, 1024, 0, 0, &type, &format, &count, &after, &data) == 0 else { return nil }
        defer { if let data { XFree(data) } }
        guard type != 0, format == 8, let data else { return nil }
        return (type, Array(UnsafeBufferPointer(start: data, count: Int(count))))
    }

    /// The first item of a format-32 property (WINDOW, CARDINAL), nil when absent.
    private func windowProperty(_ window: Window, _ atom: Atom) -> UInt? {
        var type: Atom = 0
        var format: Int32 = 0
        var count: UInt = 0
        var after: UInt = 0
        var data: UnsafeMutablePointer<UInt8>?
        guard XGetWindowProperty(display, window, atom, 0, 1, 0, 0, &type, &format, &count, &after, &data) == 0 else { return nil }
        defer { if let data { XFree(data) } }
        guard format == 32, count >= 1, let data else { return nil }
        // Xlib hands format-32 items back as C longs, whatever the wire size.
        return UnsafeRawPointer(data).loadUnaligned(as: UInt.self)
    }
}
