#if canImport(Glibc)
import Glibc
#endif

/// A hook file that serves one method.
package struct HookFile: Sendable, Equatable {
    /// Absolute path, what posix_spawn runs.
    package let path: String
    /// Path inside the hooks folder (`Join.sh`, `ipam/RequestPool.py`): how messages name it.
    package let name: String

    package init(path: String, name: String) {
        self.path = path
        self.name = name
    }
}

/// What the folder says about one method, right now.
package enum HookLookup: Sendable, Equatable {
    case hook(HookFile)
    case none
    /// The method has a hook that must not run (not executable, claimed twice, insecure).
    case unusable(String)
}

/// What start-up (and `check`) found in a hooks folder.
package struct FolderReport: Sendable {
    package var errors: [String] = []
    package var warnings: [String] = []
    /// Files that are not hooks by design (hidden, folders, leftovers): mentioned, never a problem.
    package var notes: [String] = []
    package var hooks: [String: HookFile] = [:]
    /// The resident hook of each family that has one.
    package var residents: [Family: HookFile] = [:]
}

/// Which file serves which method. The folder is looked at on every call (its listing is
/// reread whenever it changed), so editing, adding or removing a hook takes effect at once;
/// only method names are ever looked up.
package struct HookFolder: Sendable {
    package let root: String
    package let allowInsecure: Bool

    package init(root: String, allowInsecure: Bool = false) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        self.allowInsecure = allowInsecure
    }

    /// Whether the folder serves the IPAM protocol too.
    package var hasIpam: Bool { isDirectory(root + "/ipam") }

    package func lookup(_ method: Method) -> HookLookup {
        lookup(stem: method.name, family: method.family, claimed: method.fullName)
    }

    /// The file named `resident` or `resident.<ext>` that answers the family's methods that
    /// have no hook file of their own.
    package func resident(_ family: Family) -> HookLookup {
        lookup(stem: HookFolder.residentStem, family: family, claimed: "the \(family.rawValue) resident hook")
    }

    package static let residentStem = "resident"

    private func lookup(stem: String, family: Family, claimed: String) -> HookLookup {
        let folder = family.hookSubfolder.map { root + "/" + $0 } ?? root
        let prefix = family.hookSubfolder.map { $0 + "/" } ?? ""
        guard let look = FolderListing.shared.look(at: folder) else { return .none }
        let claimants = look.names.filter { !HookFolder.isLeftover($0) && HookFolder.split($0)?.stem == stem }
        guard let first = claimants.first else { return .none }
        if claimants.count > 1 {
            let names = claimants.sorted().map { prefix + $0 }.joined(separator: " and ")
            return .unusable("two hooks claim \(claimed): \(names); remove one")
        }
        let file = HookFile(path: folder + "/" + first, name: prefix + first)
        if let problem = problem(with: file, folder: folder, folderMode: look.mode) { return .unusable(problem) }
        return .hook(file)
    }

    /// Everything that makes the server refuse to start, and what it only warns about.
    package func check() -> FolderReport {
        var report = FolderReport()
        guard isDirectory(root) else {
            report.errors.append("\(root): the hooks folder does not exist or is not a folder")
            return report
        }
        var folders: [(path: String, family: Family)] = [(root, .networkDriver)]
        if hasIpam { folders.append((root + "/ipam", .ipamDriver)) }
        for (folder, family) in folders {
            if !allowInsecure, let problem = insecurity(folder) { report.errors.append(problem) }
            let methods = Methods.inFamily(family)
            let names = methods.map(\.name)
            var claims: [String: [String]] = [:]
            for entry in entries(of: folder).sorted() {
                let path = folder + "/" + entry
                // Hidden files, folders (ipam/ is the IPAM family; others hold helpers) and
                // leftovers are never hooks: said once here, never a reason for a call to fail.
                if entry.hasPrefix(".") {
                    report.notes.append("\(path): a hidden file, never run")
                    continue
                }
                if isDirectory(path) {
                    if !(family == .networkDriver && entry == "ipam") {
                        report.notes.append("\(path)/: a folder, never run (hooks may keep helpers there)")
                    }
                    continue
                }
                if HookFolder.isLeftover(entry) {
                    report.notes.append("\(path): an editor or package leftover, never run")
                    continue
                }
                guard let (stem, _) = HookFolder.split(entry), names.contains(stem) || stem == HookFolder.residentStem else {
                    let stem = HookFolder.split(entry)?.stem ?? entry
                    let hint = Suggest.closest(to: stem, among: names).map { "; did you mean \($0)?" } ?? ""
                    report.warnings.append("\(path): not the name of a \(family.rawValue) method, so it is never run\(hint)")
                    continue
                }
                claims[stem, default: []].append(entry)
            }
            for method in methods {
                switch lookup(method) {
                case .hook(let file): report.hooks[method.fullName] = file
                case .unusable(let problem): report.errors.append(problem)
                case .none: break
                }
            }
            switch resident(family) {
            case .hook(let file): report.residents[family] = file
            case .unusable(let problem): report.errors.append(problem)
            case .none: break
            }
        }
        return report
    }

    /// What editors and package managers leave beside a file: `Join.sh~`, `Join.sh.orig`,
    /// `Join.sh.swp`; and `.disabled`, so that renaming a hook turns it off.
    static let leftoverExtensions = ["bak", "orig", "rej", "swp", "tmp", "disabled"]

    package static func isLeftover(_ fileName: String) -> Bool {
        if fileName.hasSuffix("~") { return true }
        guard let dot = fileName.lastIndex(of: "."), dot != fileName.startIndex else { return false }
        return leftoverExtensions.contains(String(fileName[fileName.index(after: dot)...]))
    }

    /// File names are `Method` or `Method.ext` (one extension); hidden files are not hooks.
    static func split(_ fileName: String) -> (stem: String, ext: String?)? {
        guard !fileName.hasPrefix(".") else { return nil }
        let parts = fileName.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 1 { return (fileName, nil) }
        guard !parts[1].isEmpty, !parts[1].contains(".") else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    private func problem(with file: HookFile, folder: String, folderMode: mode_t) -> String? {
        var info = stat()
        guard stat(file.path, &info) == 0 else { return "hook \(file.name) cannot be read: \(errnoText())" }
        guard info.st_mode & S_IFMT == S_IFREG else { return "hook \(file.name) is not a regular file" }
        guard HookFolder.isExecutable(file.path, mode: info.st_mode) else {
            return "hook \(file.name) is not executable; run chmod +x \(file.path)"
        }
        if !allowInsecure {
            if let problem = insecurity(file.path, mode: info.st_mode) { return problem }
            if let problem = insecurity(folder, mode: folderMode) { return problem }
        }
        return nil
    }

    /// For root, what access(X_OK) answers for a regular file: an execute bit for anyone
    /// (the mode is at hand, so no system call on every call). Others ask the kernel.
    static func isExecutable(_ path: String, mode: mode_t) -> Bool {
        if geteuid() == 0 { return mode & (S_IXUSR | S_IXGRP | S_IXOTH) != 0 }
        return access(path, X_OK) == 0
    }

    /// Hooks run as root: like sshd's StrictModes, refuse what others could rewrite.
    private func insecurity(_ path: String, mode: mode_t? = nil) -> String? {
        var bits = mode
        if bits == nil {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            bits = info.st_mode
        }
        guard let bits, bits & (S_IWGRP | S_IWOTH) != 0 else { return nil }
        return "\(path) is writable by group or others, and hooks run as root; run chmod go-w \(path) (or start with --allow-insecure-hooks)"
    }

    private func entries(of folder: String) -> [String] { FolderListing.shared.names(in: folder) }

    private func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }
}

package func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
