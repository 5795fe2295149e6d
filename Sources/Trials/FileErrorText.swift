import Foundation

/// The short reason a file operation failed (`no such file`, `permission denied`), for one-line messages
/// such as `cannot read sweeps/nope.yaml: no such file`. Foundation's own descriptions are multi-line
/// dumps of `NSCocoaErrorDomain` and `NSUnderlyingError`, which tell a user nothing they can act on.
public enum FileErrorText {
    /// A short, lower-case reason for `error`; falls back to the error's localized description.
    public static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return posix(Int32(ns.code)) ?? ns.localizedDescription }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let text = posix(Int32(underlying.code)) {
            return text
        }
        if ns.domain == NSCocoaErrorDomain {
            switch ns.code {
            case NSFileReadNoSuchFileError, NSFileNoSuchFileError: return "no such file"
            case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return "permission denied"
            case NSFileReadCorruptFileError: return "the file is damaged or not in the expected format"
            case NSFileReadInapplicableStringEncodingError: return "the file is not UTF-8 text"
            case NSFileWriteOutOfSpaceError: return "no space left on the device"
            case NSFileWriteVolumeReadOnlyError: return "the filesystem is read-only"
            default: break
            }
        }
        return ns.localizedDescription
    }

    static func posix(_ code: Int32) -> String? {
        switch code {
        case ENOENT: "no such file"
        case EACCES, EPERM: "permission denied"
        case EISDIR: "is a directory, not a file"
        case ENOTDIR: "a part of the path is not a directory"
        case ENOSPC: "no space left on the device"
        case EROFS: "the filesystem is read-only"
        default: nil
        }
    }
}
