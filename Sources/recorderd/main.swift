import Foundation

exit(DaemonMain.run())
