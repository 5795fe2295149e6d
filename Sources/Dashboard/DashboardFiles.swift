import Foundation

/// Files the dashboard may serve: only regular files below a sweep's `aggregate/` folder, named by
/// plain path components (no `..`, no hidden files, no absolute paths) and not leaving the folder through a
/// symbolic link.
public enum DashboardFiles {
    /// The file for `relativePath` (percent-decoded, `/`-separated) below `base`, or an error that refuses it.
    public static func resolve(_ relativePath: String, under base: URL) throws -> URL {
        let parts = relativePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty, parts.allSatisfy(isPlainComponent) else {
            throw DashboardError(.badRequest, "refused path \(relativePath): only plain names below aggregate/ are served")
        }
        let root = base.standardizedFileURL.resolvingSymlinksInPath()
        var url = root
        for p in parts { url.appendPathComponent(p) }
        let real = url.resolvingSymlinksInPath()
        guard real.path.hasPrefix(root.path + "/") else {
            throw DashboardError(.badRequest, "refused path \(relativePath): it leaves aggregate/")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: real.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw DashboardError(.notFound, "no file \(relativePath) in aggregate/; run `fsweep aggregate` to make the figures")
        }
        return real
    }

    /// A name that stays in its folder: not empty, not `.`/`..`, not hidden, no separators or NUL.
    public static func isPlainComponent(_ s: String) -> Bool {
        !s.isEmpty && !s.hasPrefix(".") && !s.contains("\\") && !s.contains("\0") && !s.contains("/")
    }

    /// The files below `base` (relative paths, sorted), for the sweep page's figure links.
    public static func list(under base: URL) -> [String] {
        let root = base.standardizedFileURL.resolvingSymlinksInPath()
        guard let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey],
                                                     options: [.skipsHiddenFiles]) else { return [] }
        var out: [String] = []
        for case let url as URL in e {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            let path = url.resolvingSymlinksInPath().path
            if path.hasPrefix(root.path + "/") { out.append(String(path.dropFirst(root.path.count + 1))) }
        }
        return out.sorted()
    }

    /// The Content-Type for a file name.
    public static func contentType(for name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "html", "htm": return "text/html; charset=utf-8"
        case "csv": return "text/csv; charset=utf-8"
        case "json": return "application/json"
        case "txt", "md", "yaml": return "text/plain; charset=utf-8"
        case "pdf": return "application/pdf"
        default: return "application/octet-stream"
        }
    }
}
