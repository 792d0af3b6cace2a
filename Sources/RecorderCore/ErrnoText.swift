#if canImport(Glibc)
import Glibc
#endif

/// `strerror`'s text for an errno value (the calling thread's `errno` when none is given), the one
/// wording every module puts in its messages.
public func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
