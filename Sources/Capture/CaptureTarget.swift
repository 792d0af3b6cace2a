import CX11Shim
import RecorderCore

/// What a session captures and the fixed frame size that follows from it.
struct CaptureTarget {
    enum Kind {
        /// The whole screen as it was at start.
        case screen
        /// A fixed rectangle of the screen.
        case region(PixelRect)
        /// A window found by text, followed as it moves and resizes.
        case window(text: String, initial: WindowMatch)
    }

    var kind: Kind
    var width: Int
    var height: Int

    /// Checks the target against the screen on `connection` and fixes the frame size.
    static func resolve(configuration: CaptureConfiguration, connection: CaptureConnection) throws(RecorderError) -> CaptureTarget {
        let screenSize = "\(connection.screenWidth)x\(connection.screenHeight)"
        if let text = configuration.window {
            guard !text.isEmpty else { throw .invalidConfiguration("--window needs a non-empty TEXT") }
            guard let match = connection.findWindow(matching: text) else {
                throw .display("no window matches '\(text)' on display \(connection.name) (title or WM_CLASS, visible windows only)")
            }
            guard match.width > 0, match.height > 0 else {
                throw .display("window '\(match.title)' matching '\(text)' has no area")
            }
            return CaptureTarget(kind: .window(text: text, initial: match), width: match.width, height: match.height)
        }
        if let region = configuration.region {
            guard region.width > 0, region.height > 0, region.x >= 0, region.y >= 0,
                  region.x + region.width <= connection.screenWidth, region.y + region.height <= connection.screenHeight else {
                throw .invalidConfiguration("region \(region) is outside the \(screenSize) screen")
            }
            return CaptureTarget(kind: .region(region), width: region.width, height: region.height)
        }
        guard connection.screenWidth > 0, connection.screenHeight > 0 else {
            throw .display("display \(connection.name) reports an empty \(screenSize) screen")
        }
        return CaptureTarget(kind: .screen, width: connection.screenWidth, height: connection.screenHeight)
    }
}
