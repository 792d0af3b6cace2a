import CX11Shim
import X11Support

/// A window found by `--window` text, with its size at that moment.
struct WindowMatch {
    var window: Window
    var width: Int
    var height: Int
    var title: String
}

extension CaptureConnection {
    /// The top-most viewable window whose title (_NET_WM_NAME or WM_NAME) or WM_CLASS contains `text`.
    ///
    /// Walks the tree on this connection only; unviewable subtrees are skipped (nothing in them is visible).
    func findWindow(matching text: String) -> WindowMatch? {
        search(under: root, text: text)
    }

    private func search(under parent: Window, text: String) -> WindowMatch? {
        // XQueryTree lists bottom to top; the top-most match wins.
        for window in connection.children(of: parent).reversed() {
            var attributes = XWindowAttributes()
            guard XGetWindowAttributes(display, window, &attributes) != 0,
                  attributes.map_state == IsViewable, attributes.`class` == InputOutput else { continue }
            if let title = matchingLabel(of: window, text: text) {
                return WindowMatch(window: window, width: Int(attributes.width), height: Int(attributes.height), title: title)
            }
            if let inner = search(under: window, text: text) { return inner }
        }
        return nil
    }

    /// The window's title or class when one of them contains `text`.
    private func matchingLabel(of window: Window, text: String) -> String? {
        let title = connection.title(of: window)
        if let title, title.contains(text) { return title }
        if let hint = connection.classHint(of: window), hint.instance.contains(text) || hint.class.contains(text) {
            return title ?? "\(hint.instance).\(hint.class)"
        }
        return nil
    }
}
