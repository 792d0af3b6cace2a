import CX11Shim

/// The window tree and the ICCCM/EWMH text properties, read the same way by capture's `--window` search
/// and the state sampler's focus tracking.
extension XConnection {
    /// The window's children, bottom to top; empty when it is gone.
    public func children(of window: Window) -> [Window] {
        queryTree(window)?.children ?? []
    }

    /// The window's parent, nil when it is gone.
    public func parent(of window: Window) -> Window? {
        queryTree(window)?.parent
    }

    private func queryTree(_ window: Window) -> (parent: Window, children: [Window])? {
        var rootReturn: Window = 0
        var parent: Window = 0
        var children: UnsafeMutablePointer<Window>?
        var count: UInt32 = 0
        guard XQueryTree(display, window, &rootReturn, &parent, &children, &count) != 0 else { return nil }
        defer { if let children { XFree(children) } }
        return (parent, children.map { Array(UnsafeBufferPointer(start: $0, count: Int(count))) } ?? [])
    }

    /// `_NET_WM_NAME` (UTF-8), else `WM_NAME`; nil when neither is set.
    public func title(of window: Window) -> String? {
        if let (_, bytes) = textProperty(window, atom("_NET_WM_NAME")), !bytes.isEmpty {
            return String(decoding: bytes, as: UTF8.self)
        }
        guard let (type, bytes) = textProperty(window, atom("WM_NAME")) else { return nil }
        return decodeText(bytes, type: type)
    }

    /// WM_CLASS as its two parts, instance and class; nil when unset.
    public func classHint(of window: Window) -> (instance: String, class: String)? {
        guard let (type, bytes) = textProperty(window, atom("WM_CLASS")) else { return nil }
        let parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map { decodeText(Array($0), type: type) }
        return (parts.first ?? "", parts.count > 1 ? parts[1] : "")
    }

    /// The first item of a format-32 property (WINDOW, CARDINAL), nil when absent.
    public func cardinalProperty(_ window: Window, _ name: String) -> UInt? {
        var type: Atom = 0
        var format: Int32 = 0
        var count: UInt = 0
        var after: UInt = 0
        var data: UnsafeMutablePointer<UInt8>?
        guard XGetWindowProperty(display, window, atom(name), 0, 1, 0, 0, &type, &format, &count, &after, &data) == Success else { return nil }
        defer { if let data { XFree(data) } }
        guard format == 32, count >= 1, let data else { return nil }
        // Xlib hands format-32 items back as C longs, whatever the wire size.
        return UnsafeRawPointer(data).loadUnaligned(as: UInt.self)
    }

    /// Text of type STRING is ISO 8859-1 (ICCCM), one byte per code point; anything else is read as UTF-8.
    private func decodeText(_ bytes: [UInt8], type: Atom) -> String {
        if type == atom("STRING") { return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) })) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A format-8 property's type and bytes (at most 4 KiB), nil when absent.
    private func textProperty(_ window: Window, _ atom: Atom) -> (Atom, [UInt8])? {
        var type: Atom = 0
        var format: Int32 = 0
        var count: UInt = 0
        var after: UInt = 0
        var data: UnsafeMutablePointer<UInt8>?
        // 0 = AnyPropertyType.
        guard XGetWindowProperty(display, window, atom, 0, 1024, 0, 0, &type, &format, &count, &after, &data) == Success else { return nil }
        defer { if let data { XFree(data) } }
        guard type != 0, format == 8, let data else { return nil }
        return (type, Array(UnsafeBufferPointer(start: data, count: Int(count))))
    }
}
