/// Decides what kind of device a set of capabilities describes, the way udev's `input_id` builtin does.
///
/// udev sets ID_INPUT_KEYBOARD / _MOUSE / _TOUCHPAD / _TABLET / _TOUCHSCREEN / _JOYSTICK from the
/// capability bits; one device may get several. The recorder stores one word, so the tags are taken
/// in this order: keyboard, touchpad, tablet, touchscreen, gamepad, joystick, mouse, other.
/// A joystick that has the BTN_GAMEPAD (BTN_SOUTH) button is a gamepad, as the kernel's gamepad
/// API defines it.
public enum DeviceClassifier {
    // Codes from linux/input-event-codes.h.
    static let evKey: UInt16 = 0x01, evRel: UInt16 = 0x02, evAbs: UInt16 = 0x03
    static let relX: UInt16 = 0x00, relY: UInt16 = 0x01, relWheel: UInt16 = 0x08, relHWheel: UInt16 = 0x06
    static let absX: UInt16 = 0x00, absY: UInt16 = 0x01, absZ: UInt16 = 0x02, absRX: UInt16 = 0x03
    static let absPressure: UInt16 = 0x18, absMTSlot: UInt16 = 0x2f
    static let absMTPositionX: UInt16 = 0x35, absMTPositionY: UInt16 = 0x36
    static let btnMisc: UInt16 = 0x100, btn0: UInt16 = 0x100, btn1: UInt16 = 0x101
    static let btnMouse: UInt16 = 0x110, btnJoystick: UInt16 = 0x120, btnGamepad: UInt16 = 0x130
    static let btnDigi: UInt16 = 0x140, btnToolPen: UInt16 = 0x140, btnToolFinger: UInt16 = 0x145
    static let btnTouch: UInt16 = 0x14a, btnStylus: UInt16 = 0x14b
    static let btnDpadUp: UInt16 = 0x220, btnDpadRight: UInt16 = 0x223
    static let btnTriggerHappy1: UInt16 = 0x2c0, btnTriggerHappy40: UInt16 = 0x2e7
    static let keyOK: UInt16 = 0x160, keyALSToggle: UInt16 = 0x230
    static let propDirect: UInt16 = 0x01, propAccelerometer: UInt16 = 0x06
    /// KEY_LEFTCTRL, KEY_CAPSLOCK, KEY_NUMLOCK, KEY_INSERT, KEY_MUTE, KEY_CALC, KEY_FILE, KEY_MAIL,
    /// KEY_PLAYPAUSE, KEY_BRIGHTNESSDOWN: udev's sign that a "joystick" is really a keyboard.
    static let wellKnownKeyboardKeys: [UInt16] = [29, 58, 69, 110, 113, 140, 144, 155, 164, 224]

    /// One of keyboard, touchpad, tablet, touchscreen, gamepad, joystick, mouse, other.
    /// - Parameters:
    ///   - capabilities: event type -> supported codes.
    ///   - properties: INPUT_PROP_* bits set.
    public static func kind(of capabilities: [UInt16: [UInt16]], properties: [UInt16]) -> String {
        let keys = Set(capabilities[evKey] ?? [])
        let rel = Set(capabilities[evRel] ?? [])
        let abs = Set(capabilities[evAbs] ?? [])
        let props = Set(properties)
        let hasKeys = capabilities[evKey] != nil

        if isFullKeyboard(keys) { return "keyboard" }

        let hasAbsCoordinates = abs.contains(absX) && abs.contains(absY)
        if props.contains(propAccelerometer) || (!hasKeys && hasAbsCoordinates && abs.contains(absZ)) {
            return "other"
        }
        let isStylus = keys.contains(btnStylus)
        let isPen = keys.contains(btnToolPen)
        let fingerButNoPen = keys.contains(btnToolFinger) && !isPen
        let hasMouseButton = (btnMouse..<btnJoystick).contains { keys.contains($0) }
        let hasRelCoordinates = rel.contains(relX) && rel.contains(relY)
        var hasMTCoordinates = abs.contains(absMTPositionX) && abs.contains(absMTPositionY)
        // A device claiming every axis (ABS_MT_SLOT - 1 too) is lying about MT.
        if hasMTCoordinates && abs.contains(absMTSlot) && abs.contains(absMTSlot - 1) { hasMTCoordinates = false }
        let isDirect = props.contains(propDirect)
        let hasTouch = keys.contains(btnTouch)
        let hasWheel = rel.contains(relWheel) || rel.contains(relHWheel)
        let hasPadButtons = keys.contains(btn0) && keys.contains(btn1) && !hasRelCoordinates

        var joystickButtons = 0
        // A mouse with more than 16 buttons runs into the joystick range; udev skips those.
        if !keys.contains(btnJoystick - 1) {
            joystickButtons += keys.filter { (btnJoystick..<btnDigi).contains($0) }.count
            joystickButtons += keys.filter { (btnTriggerHappy1...btnTriggerHappy40).contains($0) }.count
            joystickButtons += keys.filter { (btnDpadUp...btnDpadRight).contains($0) }.count
        }
        let joystickAxes = abs.filter { (absRX..<absPressure).contains($0) }.count
        let hasJoystickAxesOrButtons = joystickButtons + joystickAxes > 0

        var isTablet = false, isTouchpad = false, isTouchscreen = false, isJoystick = false
        var isAbsMouse = false
        if hasAbsCoordinates {
            if isStylus || isPen { isTablet = true }
            else if fingerButNoPen && !isDirect { isTouchpad = true }
            else if hasMouseButton { isAbsMouse = true }
            else if hasTouch || isDirect { isTouchscreen = true }
            else if hasJoystickAxesOrButtons { isJoystick = true }
        } else if hasJoystickAxesOrButtons {
            isJoystick = true
        }
        if hasMTCoordinates {
            if isStylus || isPen { isTablet = true }
            else if fingerButNoPen && !isDirect { isTouchpad = true }
            else if hasTouch || isDirect { isTouchscreen = true }
        }
        if hasPadButtons && hasWheel && !hasRelCoordinates { isTablet = true }
        let isMouse = !isTablet && !isTouchpad && !isJoystick && hasMouseButton
            && (hasRelCoordinates || !hasAbsCoordinates)
        if isJoystick {
            let keyboardLike = hasKeys ? wellKnownKeyboardKeys.filter { keys.contains($0) }.count : 0
            if keyboardLike >= 4 || joystickButtons + joystickAxes < 2 { isJoystick = false }
        }

        if isTouchpad { return "touchpad" }
        if isTablet { return "tablet" }
        if isTouchscreen { return "touchscreen" }
        if isJoystick { return keys.contains(btnGamepad) ? "gamepad" : "joystick" }
        if isMouse || isAbsMouse { return "mouse" }
        return "other"
    }

    /// udev's ID_INPUT_KEYBOARD: KEY_ESC through KEY_D (codes 1...31) all present.
    static func isFullKeyboard(_ keys: Set<UInt16>) -> Bool {
        (1...31).allSatisfy { keys.contains(UInt16($0)) }
    }
}
