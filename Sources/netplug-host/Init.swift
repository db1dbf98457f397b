import ArgumentParser
import NetplugCore
#if canImport(Glibc)
import Glibc
#endif

/// `netplug-host init DIR`: a new hooks folder with every method stubbed and explained.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a new hooks folder with a commented stub for every method.",
        discussion: """
        Each stub says when Docker calls it, shows an example request, the answer's fields and
        the default it replaces, and answers that default, so the folder behaves like no hooks
        at all until you edit it. It passes check and exercise as made.

        Example:
          netplug-host init ./mydriver --lang python
          netplug-host exercise --hooks ./mydriver
        """
    )

    enum Language: String, ExpressibleByArgument, CaseIterable { case sh, python }

    @Argument(help: "The folder to make (it must not exist, or be empty).")
    var folder: String

    @Option(help: "The stubs' language: sh or python.")
    var lang: Language = .sh

    @Flag(help: "Also stub the IPAM methods in ipam/ (a naive allocator in 10.99.0.0/24 to replace).")
    var ipam = false

    @Flag(help: "One resident.py (and ipam/resident.py) that netplug-host starts once, instead of a file per method; Python only.")
    var resident = false

    func validate() throws {
        if resident && lang != .python {
            throw ValidationError("--resident: resident hooks are made in Python; add --lang python")
        }
    }

    func run() throws {
        let root = absolute(folder)
        var info = stat()
        if stat(root, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR, Init.isEmpty(root) else {
                throw ValidationError("\(root) already exists and is not an empty folder; choose a new one")
            }
        }
        try makeFolder(root)
        if ipam { try makeFolder(root + "/ipam") }
        if resident { return try makeResident(root) }
        let ext = lang == .sh ? "sh" : "py"
        for method in Methods.all where method.family == .networkDriver || ipam {
            let path = "\(root)/\(method.hookStem).\(ext)"
            try write(path, header(method) + body(method))
        }
        print("made \(root) with \(Methods.all.filter { $0.family == .networkDriver || ipam }.count) \(lang.rawValue) stubs; next: netplug-host exercise --hooks \(folder)")
    }

    func makeFolder(_ path: String) throws {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw ValidationError("cannot make \(path): \(errnoText())") }
        chmod(path, 0o755)
    }

    func write(_ path: String, _ text: String, mode: mode_t = 0o755) throws {
        guard let file = fopen(path, "wx") else { throw ValidationError("cannot write \(path): \(errnoText())") }
        fputs(text, file)
        fclose(file)
        chmod(path, mode)
    }

    static func isEmpty(_ path: String) -> Bool {
        guard let dir = opendir(path) else { return false }
        defer { closedir(dir) }
        var count = 0
        while readdir(dir) != nil { count += 1 }
        return count <= 2
    }

    /// The comment every stub starts with: when, request, answer, default.
    func header(_ method: Method) -> String {
        let shebang = lang == .sh ? "#!/bin/sh" : "#!/usr/bin/env python3"
        let lines = explanation(method) + [
            "To refuse, print a message on stderr and exit 1 (or print {\"Err\": \"message\"});",
            "on an error, Docker: \(Samples.onError(method)).",
        ]
        return shebang + "\n" + lines.map { $0.isEmpty ? "#" : "# " + $0 }.joined(separator: "\n") + "\n"
    }

    /// When Docker calls the method, an example request, the answer's fields, the default.
    func explanation(_ method: Method) -> [String] {
        let wording = resident
            ? (request: "Docker sends, for example:", answer: "Return the answer, with these fields:", none: "Returning None answers netplug-host's default:")
            : (request: "Docker sends on stdin, for example:", answer: "Print the answer on stdout, with these fields:", none: "Without this file netplug-host answers:")
        var lines = [
            "\(method.fullName): \(method.summary)",
            "",
            wording.request,
            "  " + Samples.request(method).text,
            "",
            wording.answer,
        ]
        lines += ShapeText.render(method.answer).split(separator: "\n").map { "  " + $0 }
        lines += [
            "for example:",
            "  " + Samples.answer(method).text,
            "",
            "\(wording.none) \(Samples.defaultText(method))",
        ]
        return lines
    }

    /// `resident.py` (and `ipam/resident.py`) with a documented handler per method, and
    /// `lib/netplug.py`, the module that speaks to netplug-host.
    func makeResident(_ root: String) throws {
        try makeFolder(root + "/lib")
        try write(root + "/lib/netplug.py", String(decoding: PackageResources.netplug_py, as: UTF8.self), mode: 0o644)
        try write(root + "/resident.py", residentScript(.networkDriver, lib: "lib"))
        if ipam { try write(root + "/ipam/resident.py", residentScript(.ipamDriver, lib: "../lib")) }
        let files = ipam ? "resident.py, ipam/resident.py and lib/netplug.py" : "resident.py and lib/netplug.py"
        print("made \(root) with \(files); next: netplug-host exercise --hooks \(folder)")
    }

    func residentScript(_ family: Family, lib: String) -> String {
        var text = """
        #!/usr/bin/env python3
        # A resident hook: netplug-host starts this file once and sends it every \(family.rawValue)
        # method that has no hook file of its own, one call at a time. Each function gets the
        # request Docker sent and `env`, the variables a hook file would have had (NETPLUG_METHOD,
        # NETPLUG_NETWORK_ID, NETPLUG_NETWORK_FILE, ...). It returns the answer, or None for
        # netplug-host's default, or raises netplug.Error("a sentence the user will read").
        # What it keeps in memory lasts until netplug-host stops or this file changes; keep what
        # must survive a restart under NETPLUG_STATE_DIR.
        import os
        import sys

        sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "\(lib)"))
        import netplug  # noqa: E402

        """
        if family == .ipamDriver {
            text += "# A stand-in allocator in 10.99.0.0/24, in memory: replace it with a real one.\nnext_address = {}\n\n"
        }
        var table: [String] = []
        for method in Methods.inFamily(family) {
            let function = snakeCase(method.name)
            table.append("    \"\(method.name)\": \(function),")
            let doc = explanation(method).map { $0.isEmpty ? "" : "    " + $0 }.joined(separator: "\n")
            text += "\ndef \(function)(request, env):\n    \"\"\"\(doc.dropFirst(4))\n    \"\"\"\n"
            text += residentBody(method) + "\n"
        }
        text += "\nnetplug.serve({\n" + table.joined(separator: "\n") + "\n})\n"
        return text
    }

    func residentBody(_ method: Method) -> String {
        switch method.id {
        case .requestPool:
            return """
                pool = request.get("Pool") or "10.99.0.0/24"
                return {"PoolID": "pool-" + pool, "Pool": pool, "Data": {}}

            """
        case .requestAddress:
            return """
                address = request.get("Address", "").split("/")[0]
                if not address:
                    n = next_address.get(request["PoolID"], 1)
                    next_address[request["PoolID"]] = n + 1
                    address = "10.99.0.%d" % n
                return {"Address": address + "/24", "Data": {}}

            """
        case .releasePool, .releaseAddress:
            return "    return {}\n"
        default:
            return "    return None\n"
        }
    }

    func snakeCase(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase && !result.isEmpty { result += "_" }
            result += character.lowercased()
        }
        return result
    }

    func body(_ method: Method) -> String {
        let answer: String
        switch method.defaultAnswer {
        case .json(let make): answer = make(DefaultContext()).text
        case .notImplemented: return lang == .sh ? ipamShell(method) : ipamPython(method)
        }
        switch lang {
        case .sh: return "request=$(cat)\necho '\(answer)'\n"
        case .python: return "import json\nimport sys\n\nrequest = json.load(sys.stdin)\njson.dump(\(pythonLiteral(answer)), sys.stdout)\n"
        }
    }

    func pythonLiteral(_ json: String) -> String {
        json.replacing("true", with: "True").replacing("false", with: "False")
    }

    /// IPAM has no defaults to fall back on: a naive stand-in to replace (examples/ipam-python).
    func ipamShell(_ method: Method) -> String {
        switch method.id {
        case .requestPool:
            return """
            # A stand-in: the requested pool, or 10.99.0.0/24. Replace it with a real allocator.
            request=$(cat)
            pool=$(printf '%s' "$request" | sed -n 's/.*"Pool": *"\\([^"]*\\)".*/\\1/p')
            [ -n "$pool" ] || pool=10.99.0.0/24
            echo "{\\"PoolID\\": \\"pool-$pool\\", \\"Pool\\": \\"$pool\\", \\"Data\\": {}}"

            """
        case .requestAddress:
            return """
            # A stand-in: the requested address, or the next one of 10.99.0.0/24 (never reused).
            request=$(cat)
            address=$(printf '%s' "$request" | sed -n 's/.*"Address": *"\\([^"]*\\)".*/\\1/p')
            if [ -z "$address" ]; then
                n=$(cat "$NETPLUG_STATE_DIR/stub-next-address" 2>/dev/null || echo 1)
                echo $((n + 1)) > "$NETPLUG_STATE_DIR/stub-next-address"
                address=10.99.0.$n
            fi
            echo "{\\"Address\\": \\"${address%/*}/24\\", \\"Data\\": {}}"

            """
        default:
            return "request=$(cat)\necho '{}'\n"
        }
    }

    func ipamPython(_ method: Method) -> String {
        switch method.id {
        case .requestPool:
            return """
            # A stand-in: the requested pool, or 10.99.0.0/24. Replace it with a real allocator.
            import json
            import sys

            request = json.load(sys.stdin)
            pool = request.get("Pool") or "10.99.0.0/24"
            json.dump({"PoolID": "pool-" + pool, "Pool": pool, "Data": {}}, sys.stdout)

            """
        case .requestAddress:
            return """
            # A stand-in: the requested address, or the next one of 10.99.0.0/24 (never reused).
            import json
            import os
            import sys

            request = json.load(sys.stdin)
            address = request.get("Address", "").split("/")[0]
            if not address:
                counter = os.path.join(os.environ["NETPLUG_STATE_DIR"], "stub-next-address")
                n = int(open(counter).read()) if os.path.exists(counter) else 1
                open(counter, "w").write(str(n + 1))
                address = "10.99.0.%d" % n
            json.dump({"Address": address + "/24", "Data": {}}, sys.stdout)

            """
        default:
            return "import json\nimport sys\n\nrequest = json.load(sys.stdin)\njson.dump({}, sys.stdout)\n"
        }
    }
}
