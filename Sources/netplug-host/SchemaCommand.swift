import ArgumentParser
import NetplugCore

/// `netplug-host schema [METHOD] [--markdown]`: what Docker sends and what a hook answers.
struct ShowSchema: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Show the request and answer of a method (or all), with an example of each.",
        discussion: """
        Examples:
          netplug-host schema Join
          netplug-host schema --markdown > docs/HOOKS.md
        """
    )

    @Argument(help: "A method: Join, NetworkDriver.Join, ipam/RequestPool, ... (all when left out).")
    var method: String?

    @Flag(help: "Write the whole reference as Markdown (docs/HOOKS.md is made this way).")
    var markdown = false

    func run() throws {
        let methods = try method.map { [try findMethod($0)] } ?? Methods.all
        if markdown {
            print(ShowSchema.markdown(methods))
            return
        }
        for method in methods {
            print("""
            \(method.fullName)  (hook: \(method.hookStem)[.ext])
              when: \(method.summary)
              request: \(ShapeText.render(method.request, indent: "  "))
              example request: \(Samples.request(method).text)
              answer: \(ShapeText.render(method.answer, indent: "  "))
              example answer: \(Samples.answer(method).text)
              default (no hook): \(Samples.defaultText(method))
              on an error, Docker: \(Samples.onError(method))

            """)
        }
    }

    static func markdown(_ methods: [Method]) -> String {
        var out = """
        # Hooks: every method

        Made by `netplug-host schema --markdown` from the method table the server itself uses;
        a test keeps this file and the table in step. For each method: when Docker calls it,
        what the hook reads on stdin, what it may print, the default when there is no hook, and
        what Docker does when the hook fails. A hook fails by exiting non-zero (its last line of
        stderr becomes the message) or by printing `{"Err": "message"}` (IPAM hooks may also use
        `Error`). Keys match in any case; `null` is accepted for any field.

        NetworkDriver hooks live in the hooks folder, IpamDriver hooks in its `ipam/` subfolder.


        """
        for family in Family.allCases {
            out += "## \(family.rawValue)\n\n"
            for method in methods where method.family == family {
                out += """
                ### \(method.name)

                Hook: `\(method.hookStem)` or `\(method.hookStem).<ext>`. \(method.summary)

                Request:

                ```
                \(ShapeText.render(method.request))
                ```

                Example request:

                ```json
                \(Samples.request(method).text)
                ```

                Answer:

                ```
                \(ShapeText.render(method.answer))
                ```

                Example answer: `\(Samples.answer(method).text)`

                Default (no hook): `\(Samples.defaultText(method))`

                On an error, Docker: \(Samples.onError(method)).


                """
            }
        }
        return out
    }
}
