import CX11Shim
#if canImport(Glibc)
import Glibc
#endif

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
        var rootReturn: Window = 0
        var parentReturn: Window = 0
        var children: UnsafeMutablePointer<Window>?
        var count: UInt32 = 0
        guard XQueryTree(display, parent, &rootReturn, &parentReturn, &children, &count) != 0 else { return nil }
        defer { if let children { XFree(children) } }
        guard let children else { return nil }
        // XQueryTree lists bottom to top; the top-most match wins.
        for index in stride(from: Int(count) - 1, through: 0, by: -1) {
            let window = children[index]
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
        let title = windowTitle(window)
        if let title, title.contains(text) { return title }
        var hint = XClassHint()
        if XGetClassHint(display, window, &hint) != 0 {
            defer {
                if let name = hint.res_name { XFree(name) }
                if let cls = hint.res_class { XFree(cls) }
            }
            let instance = hint.res_name.map { String(cString: $0) } ?? ""
            let cls = hint.res_class.map { String(cString: $0) } ?? ""
            if instance.contains(text) || cls.contains(text) { return title ?? "\(instance).\(cls)" }
        }
        return nil
    }

    /// _NET_WM_NAME (UTF-8) or else WM_NAME.
    func windowTitle(_ window: Window) -> String? {
        let netName = netWMNameAtom
        let utf8 = utf8StringAtom
        var actualType: Atom = 0
        var format: Int32 = 0
        var items: UInt = 0
        var remaining: UInt = 0
        var data: UnsafeMutablePointer<UInt8>?
        if XGetWindowProperty(display, window, netName, 0, 1024, 0, utf8, &actualType, &format, &items, &remaining, &data) == Success,
           let data {
            defer { XFree(data) }
            if actualType == utf8, format == 8, items > 0 {
                return String(decoding: UnsafeBufferPointer(start: data, count: Int(items)), as: UTF8.self)
            }
        }
        var name: UnsafeMutablePointer<CChar>?
        if XFetchName(display, window, &name) != 0, let name {
            defer { XFree(name) }
            return String(cString: name)
        }
        return nil
    }
}
