import RecorderCore

/// Hides what was typed, the way `libinput record` does unless given `--show-keycodes`.
///
/// Character keys (KEY_1 ... KEY_SPACE except Tab, Enter and Left Ctrl, and the keypad
/// KEY_KP7 ... KEY_KPDOT) become KEY_A; every MSC_SCAN value becomes 30 (KEY_A's scancode).
/// Esc, Tab, Enter, modifiers, function and navigation keys stay as they are, so shortcuts and
/// movement remain readable. Changed events carry `InputEvent.Flags.redacted`.
public enum KeyRedaction {
    static let keyEsc: UInt16 = 1, keyTab: UInt16 = 15, keyEnter: UInt16 = 28, keyLeftCtrl: UInt16 = 29
    static let keyA: UInt16 = 30, keyCapsLock: UInt16 = 58, keyKP7: UInt16 = 71, keyKPDot: UInt16 = 83
    static let evKey: UInt16 = 1, evMsc: UInt16 = 4, mscScan: UInt16 = 4

    /// True when `code` (EV_KEY) is a key whose identity would reveal text.
    @inline(__always)
    public static func isCharacterKey(_ code: UInt16) -> Bool {
        switch code {
        case keyEsc, keyTab, keyEnter, keyLeftCtrl: return false
        default: return (code > keyEsc && code < keyCapsLock) || (code >= keyKP7 && code <= keyKPDot)
        }
    }

    /// Replaces the code or scancode of `event` when it could reveal a typed character.
    @inline(__always)
    public static func apply(_ event: inout InputEvent) {
        if event.type == evKey && isCharacterKey(event.code) {
            event.code = keyA
            event.flags |= InputEvent.Flags.redacted
        } else if event.type == evMsc && event.code == mscScan {
            event.value = Int32(keyA)
            event.flags |= InputEvent.Flags.redacted
        }
    }

    /// Keys held at start with character keys replaced by KEY_A (once).
    public static func redactHeldKeys(_ codes: [UInt16]) -> [UInt16] {
        var seen = Set<UInt16>()
        return codes.map { isCharacterKey($0) ? keyA : $0 }.filter { seen.insert($0).inserted }
    }
}
