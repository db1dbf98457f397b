import NetplugCore
import NetplugServer
#if canImport(Glibc)
import Glibc
#endif

/// Fills a managed plugin's rootfs from this machine: each program at the path it has here,
/// with every shared library `ldd` names, symlinks kept as symlinks. The rootfs has the
/// merged-/usr layout (/bin, /sbin, /lib, /lib64 link into /usr), so a file found under either
/// name lands once.
final class RootfsBuilder {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let root: String
    private var installed: Set<String> = []

    /// Utilities a shell hook expects to find; those this machine lacks are left out.
    static let utilities = [
        "cat", "cut", "grep", "sed", "tr", "head", "tail", "dirname", "basename", "mkdir", "rmdir", "rm", "mv",
        "cp", "ln", "ls", "touch", "chmod", "readlink", "realpath", "sleep", "printf", "echo", "test", "[", "env",
        "date", "wc", "sort", "uniq", "tee", "seq", "expr", "id", "true", "false", "stat", "od", "xargs",
        "awk", "flock", "mktemp", "find",
    ]
    /// Without these a shell hook can hardly work: a machine that lacks one cannot bundle.
    static let requiredUtilities: Set<String> = ["cat", "cut", "grep", "sed", "tr", "head", "dirname", "mkdir", "rm", "env"]

    /// Python's standard library without what no driver needs (tests, GUIs, packaging,
    /// documentation, codecs for legacy charsets) and without the extension modules that pull
    /// in large libraries (OpenSSL, SQLite, Tk, curses): about 20 MB instead of 55.
    static let pythonSkipped: Set<String> = [
        "test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data", "distutils",
        "site-packages", "dist-packages", "venv", "__phello__", "unittest", "multiprocessing", "xmlrpc", "wsgiref",
        "turtle", "pydoc", "doctest", "_pydecimal", "_pyio", "tabnanny", "pdb", "imaplib", "nntplib", "smtplib",
        "mailbox", "ftplib", "telnetlib",
    ]
    static let pythonSkippedModules = ["_test", "xx", "_tkinter", "_ssl", "_hashlib", "_sqlite3", "_curses", "readline",
                                       "_dbm", "_gdbm", "nis", "ossaudiodev", "audioop", "_codecs_", "_multibytecodec"]
    /// The codecs kept in encodings/: Unicode, Latin-1, and what Python itself uses.
    static let pythonCodecs: Set<String> = [
        "__init__", "aliases", "ascii", "latin_1", "utf_8", "utf_8_sig", "utf_16", "utf_16_le", "utf_16_be", "utf_32",
        "utf_32_le", "utf_32_be", "idna", "punycode", "raw_unicode_escape", "unicode_escape", "charmap", "cp1252",
        "iso8859_1", "iso8859_15", "hex_codec", "base64_codec", "__pycache__",
    ]

    /// Whether a file or folder of Python's standard library goes into the plugin.
    static func keepsPythonFile(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        // config-3.11-x86_64-linux-gnu: the static library and headers, for building Python itself.
        if name.hasPrefix("config-") { return false }
        // Bytecode for `python -O` and `-OO`, which hooks are not run with.
        if name.hasSuffix(".opt-1.pyc") || name.hasSuffix(".opt-2.pyc") { return false }
        if name.hasSuffix(".so") { return !pythonSkippedModules.contains(where: { name.hasPrefix($0) }) }
        // turtle.py, __pycache__/turtle.cpython-311.pyc and the folder turtledemo all have a module name.
        let module = String(name.prefix { $0 != "." })
        if pythonSkipped.contains(module) { return false }
        if path.contains("/encodings/") { return pythonCodecs.contains(module) }
        return true
    }

    /// Starts an empty rootfs at `root`, which must not exist yet.
    init(root: String) throws {
        self.root = root
        try Records.makeFolder(root)
        for folder in ["usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "proc", "sys", "dev", "etc", "run/docker/plugins", "var/lib"] {
            try Records.makeFolder(root + "/" + folder)
        }
        try Records.makeFolder(root + "/tmp")
        chmod(root + "/tmp", 0o1777)
        for (link, target) in [("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")] {
            guard symlink(target, root + "/" + link) == 0 else { throw Failure(description: "cannot make \(root)/\(link): \(errnoText())") }
        }
    }

    /// Programs and libraries copied so far, to lose their symbols in `finish`.
    private var unstripped: [String] = []

    /// Strips every program and library in one `strip` (a Python built by pyenv keeps 20 MB
    /// of debug information in libpython). Without binutils the files stay as they are.
    func finish() throws {
        guard let strip = RootfsBuilder.resolve("strip"), !unstripped.isEmpty else { return }
        let result = HookRunner.runProgram(strip, ["--strip-unneeded"] + unstripped, timeout: 120)
        guard case .exited(0) = result.exit else {
            throw Failure(description: "strip failed: \(String(decoding: result.stderr, as: UTF8.self).trimmingCharacters())")
        }
    }

    /// This netplug-host (stripped, as every program is) as /usr/bin/netplug-host.
    func addHost() throws {
        let own = try RootfsBuilder.realPath("/proc/self/exe")
        try copyFile(own, to: root + "/usr/bin/netplug-host")
        try addLibraries(of: [own])
    }

    /// /bin/sh as a shell that runs programs from PATH (dash where there is one; never
    /// busybox's, which runs its own applets first), and the basic utilities.
    func addShellAndUtilities() throws {
        let candidates = (RootfsBuilder.resolve("dash").map { [$0] } ?? []) + [(try? RootfsBuilder.realPath("/bin/sh")) ?? ""]
        guard let shell = candidates.first(where: { !$0.isEmpty && !$0.hasSuffix("/busybox") }) else {
            throw Failure(description: "no POSIX shell to use as /bin/sh (install dash: apt-get install dash)")
        }
        var programs = [shell]
        for utility in RootfsBuilder.utilities {
            guard let path = RootfsBuilder.resolve(utility) else {
                if RootfsBuilder.requiredUtilities.contains(utility) {
                    throw Failure(description: "\(utility) is not on PATH, and shell hooks need it")
                }
                continue
            }
            programs.append(path)
        }
        try addPrograms(programs)
        unlink(root + "/usr/bin/sh")
        if shell != "/bin/sh" && shell != "/usr/bin/sh" {
            guard symlink(shell, root + "/usr/bin/sh") == 0 else { throw Failure(description: "cannot make /bin/sh: \(errnoText())") }
        }
    }

    /// Programs with their libraries (one ldd for them all); a Python interpreter also with
    /// its standard library.
    func addPrograms(_ paths: [String]) throws {
        var reals: [String] = []
        for path in paths {
            try install(path)
            reals.append(try RootfsBuilder.realPath(path))
        }
        try addLibraries(of: reals)
        for real in Set(reals).sorted() where (real.split(separator: "/").last ?? "").hasPrefix("python") {
            try addPythonLibrary(real)
        }
        if reals.contains(where: { (($0.split(separator: "/").last).map(String.init) ?? "").hasPrefix("xtables") }) {
            try addXtablesModules()
        }
    }

    /// iptables loads its matches and targets (`-m comment`, `-j DNAT`, ...) at run time from
    /// its extension folder; without them portmap's and firewall's rules fail inside the plugin.
    private func addXtablesModules() throws {
        let folders = ["/usr/lib/x86_64-linux-gnu/xtables", "/usr/lib/aarch64-linux-gnu/xtables", "/usr/lib64/xtables", "/usr/lib/xtables"]
        for folder in folders where access(folder, R_OK) == 0 {
            let modules = FolderListing.fileNames(in: folder).filter { $0.hasSuffix(".so") }.sorted().map { folder + "/" + $0 }
            for module in modules { try install(module) }
            try addLibraries(of: modules)
        }
    }

    /// Makes `name` findable on the plugin's PATH (Docker gives it /usr/local/sbin:/usr/local/bin:
    /// /usr/sbin:/usr/bin:/sbin:/bin) when the program came from elsewhere, e.g. ~/.pyenv.
    func linkOnPath(_ name: String, to program: String) throws {
        guard !name.contains("/") else { return }
        let folders = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        if folders.contains(where: { access(root + $0 + "/" + name, X_OK) == 0 }) { return }
        try Records.makeFolder(root + "/usr/local/bin")
        guard symlink(program, root + "/usr/local/bin/" + name) == 0 else {
            throw Failure(description: "cannot make /usr/local/bin/\(name): \(errnoText())")
        }
    }

    /// The hooks folder at /hooks, links followed (a folder of symlinks bundles as files),
    /// without group or other write bits; and the state folder's mount point.
    func addHooks(from source: String, stateDir: String) throws {
        try copyTree(source, to: root + "/hooks") { !$0.hasSuffix("/__pycache__") }
        try Records.makeFolder(root + stateDir)
    }

    /// The first ELF program called `name` on PATH: a wrapper script in front of the real
    /// program (a version manager's shim) is passed over. For a Python with no such program,
    /// the interpreter the script runs, as it reports itself.
    static func resolve(_ name: String) -> String? {
        let found = Shebang.onPath(name)
        if let elf = found.first(where: { Shebang.of($0) == .compiled }) { return elf }
        guard let script = found.first else { return nil }
        if name.hasPrefix("python") {
            let result = HookRunner.runProgram(script, ["-c", "import sys; print(sys.executable)"])
            let text = String(decoding: result.stdout, as: UTF8.self).trimmingCharacters()
            if case .exited(0) = result.exit, text.hasPrefix("/"), Shebang.of(text) == .compiled { return text }
        }
        return script
    }

    // MARK: - Files

    private func install(_ path: String) throws {
        guard installed.insert(path).inserted else { return }
        var info = stat()
        guard lstat(path, &info) == 0 else { throw Failure(description: "cannot read \(path): \(errnoText())") }
        if info.st_mode & S_IFMT == S_IFLNK {
            let target = try RootfsBuilder.readLink(path)
            let destination = root + path
            try Records.makeFolder(RootfsBuilder.parent(destination))
            unlink(destination)
            guard symlink(target, destination) == 0 else { throw Failure(description: "cannot make \(destination): \(errnoText())") }
            try install(target.hasPrefix("/") ? target : RootfsBuilder.normalize(RootfsBuilder.parent(path) + "/" + target))
        } else {
            try copyFile(path, to: root + path)
        }
    }

    /// Every library `ldd` lists for these ELF files (none for a script or a static program),
    /// one ldd for them all.
    private func addLibraries(of paths: [String]) throws {
        let elves = paths.filter { (try? FileBytes.read($0, upTo: 4)).map(Shebang.isELF) ?? false }
        guard !elves.isEmpty else { return }
        guard let ldd = RootfsBuilder.resolve("ldd") else { throw Failure(description: "ldd is not on PATH (install libc-bin)") }
        // With several files ldd heads each list with "FILE:", and a static one says so instead of a list.
        let text = String(decoding: HookRunner.runProgram(ldd, elves).stdout, as: UTF8.self)
        for line in text.split(separator: "\n") where !line.hasSuffix(":") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if let arrow = words.firstIndex(of: "=>"), arrow + 1 < words.count {
                if words[arrow + 1] == "not" { throw Failure(description: "a bundled program needs \(words[0]), which this machine lacks") }
                if words[arrow + 1].hasPrefix("/") { try install(words[arrow + 1]) }
            } else if let first = words.first, first.hasPrefix("/") {
                try install(first)
            }
        }
    }

    private func addPythonLibrary(_ interpreter: String) throws {
        let result = HookRunner.runProgram(interpreter, ["-S", "-c", "import sysconfig; print(sysconfig.get_path('stdlib')); print(sysconfig.get_path('platstdlib'))"])
        guard case .exited(0) = result.exit else {
            throw Failure(description: "\(interpreter) did not say where its standard library is: \(String(decoding: result.stderr, as: UTF8.self).trimmingCharacters())")
        }
        let folders = Set(String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init))
        for folder in folders.sorted() where folder.hasPrefix("/") {
            try copyTree(folder, to: root + folder, keep: RootfsBuilder.keepsPythonFile)
        }
    }

    /// Copies a folder, following links, with what `keep` accepts (given the source path);
    /// extension modules' libraries come along.
    private func copyTree(_ source: String, to destination: String, keep: (String) -> Bool) throws {
        try Records.makeFolder(destination)
        var libraries: [String] = []
        for name in FolderListing.fileNames(in: source).sorted() where keep(source + "/" + name) {
            let from = source + "/" + name, to = destination + "/" + name
            var info = stat()
            guard stat(from, &info) == 0 else { continue }  // a dangling link
            if info.st_mode & S_IFMT == S_IFDIR {
                try copyTree(from, to: to, keep: keep)
            } else if info.st_mode & S_IFMT == S_IFREG {
                try copyFile(from, to: to)
                if name.hasSuffix(".so") || name.contains(".so.") { libraries.append(from) }
            }
        }
        try addLibraries(of: libraries)
    }

    private func copyFile(_ source: String, to destination: String) throws {
        var info = stat()
        guard stat(source, &info) == 0 else { throw Failure(description: "cannot read \(source): \(errnoText())") }
        try Records.makeFolder(RootfsBuilder.parent(destination))
        let mode = info.st_mode & 0o7755  // never writable by group or others
        if let head = try? FileBytes.read(source, upTo: 4), Shebang.isELF(head) { unstripped.append(destination) }
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw Failure(description: "cannot read \(source): \(errnoText())") }
        defer { close(input) }
        unlink(destination)
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard output >= 0 else { throw Failure(description: "cannot write \(destination): \(errnoText())") }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw Failure(description: "cannot read \(source): \(errnoText())") }
            if n == 0 { break }
            var done = 0
            while done < n {
                let w = buffer.withUnsafeBytes { write(output, $0.baseAddress! + done, n - done) }
                if w < 0 && errno == EINTR { continue }
                guard w > 0 else { throw Failure(description: "cannot write \(destination): \(errnoText())") }
                done += w
            }
        }
        fchmod(output, mode)
    }

    /// The rootfs's size as `du --apparent-size` counts it, and its number of regular files.
    func measure(_ path: String? = nil) -> (bytes: Int, files: Int) {
        let folder = path ?? root
        var total = (bytes: 0, files: 0)
        for name in FolderListing.fileNames(in: folder) {
            var info = stat()
            guard lstat(folder + "/" + name, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                let inner = measure(folder + "/" + name)
                total = (total.bytes + inner.bytes, total.files + inner.files)
            case S_IFREG:
                total = (total.bytes + Int(info.st_size), total.files + 1)
            default:
                total.bytes += Int(info.st_size)
            }
        }
        return total
    }

    // MARK: - Paths

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `/usr/lib/../bin/./x` as `/usr/bin/x`, without touching the disk.
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    static func readLink(_ path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n >= 0 else { throw Failure(description: "cannot read the link \(path): \(errnoText())") }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func realPath(_ path: String) throws -> String {
        guard let resolved = realpath(path, nil) else { throw Failure(description: "cannot resolve \(path): \(errnoText())") }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// OUT may be new, empty, or an earlier bundle (config.json and rootfs/), nothing else.
    static func checkReplaceable(_ folder: String) throws {
        var info = stat()
        guard stat(folder, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw Failure(description: "--output \(folder) is a file, not a folder") }
        let names = Set(FolderListing.fileNames(in: folder))
        guard names.isSubset(of: ["config.json", "rootfs"]) else {
            throw Failure(description: "--output \(folder) holds files that are not a plugin bundle; give a new or empty folder")
        }
    }

    /// Moves the finished bundle into place, the earlier one out of the way first.
    static func replace(_ folder: String, with staging: String) throws {
        let old = folder + ".old"
        try removeTree(old)
        if access(folder, F_OK) == 0 {
            guard rename(folder, old) == 0 else { throw Failure(description: "cannot move \(folder) aside: \(errnoText())") }
        }
        guard rename(staging, folder) == 0 else { throw Failure(description: "cannot move \(staging) to \(folder): \(errnoText())") }
        try removeTree(old)
    }

    static func removeTree(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            for name in FolderListing.fileNames(in: path) { try removeTree(path + "/" + name) }
            guard rmdir(path) == 0 else { throw Failure(description: "cannot remove \(path): \(errnoText())") }
        } else {
            guard unlink(path) == 0 else { throw Failure(description: "cannot remove \(path): \(errnoText())") }
        }
    }
}
