import CX11Shim
import RecorderCore
import X11Support

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

    private let connection: XConnection

    init(connection: XConnection) {
        self.connection = connection
    }

    /// The focused named window; `pointerChild` is the root child under the pointer (for PointerRoot focus).
    func focusedWindow(pointerChild: Window) -> Focus {
        let display = connection.display
        let root = connection.root
        var start: Window = 0
        if let active = connection.cardinalProperty(root, "_NET_ACTIVE_WINDOW"), active != 0 {
            start = active
        } else {
            var focus: Window = 0
            var revert: Int32 = 0
            XGetInputFocus(display, &focus, &revert)
            start = focus == CX11Shim_state_PointerRoot() ? pointerChild : focus
        }
        guard start != 0, start != root, let (window, title) = namedClient(from: start) else { return Focus() }
        var focus = Focus(id: UInt64(window), title: title)
        // WM_CLASS as `instance.Class` (the X resource notation), "" when unset.
        focus.wmClass = connection.classHint(of: window).map { [$0.instance, $0.class].filter { !$0.isEmpty }.joined(separator: ".") } ?? ""
        focus.pid = Int32(truncatingIfNeeded: connection.cardinalProperty(window, "_NET_WM_PID") ?? 0)
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
        while window != 0, window != connection.root {
            if let title = connection.title(of: window) { return (window, title) }
            guard let parent = connection.parent(of: window) else { return nil }
            if parent == connection.root { return namedDescendant(of: window, depth: 3) }
            window = parent
        }
        return nil
    }

    private func namedDescendant(of window: Window, depth: Int) -> (Window, String)? {
        guard depth > 0 else { return nil }
        let children = connection.children(of: window)
        for child in children {
            if let title = connection.title(of: child) { return (child, title) }
        }
        for child in children {
            if let found = namedDescendant(of: child, depth: depth - 1) { return found }
        }
        return nil
    }
}
