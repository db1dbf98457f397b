import ArgumentParser
import Logging
import NetplugServer

/// `--scope`: what GetCapabilities reports when no hook answers it.
enum ScopeOption: String, CaseIterable, ExpressibleByArgument {
    case local, global
}

/// `--log-level`: swift-log's levels by their names.
enum LogLevelOption: String, CaseIterable, ExpressibleByArgument {
    case trace, debug, info, warning, error

    var level: Logger.Level { Logger.Level(rawValue: rawValue)! }
}

/// `--log-format`: one line of text, or one JSON object, per log line.
enum LogFormatOption: String, CaseIterable, ExpressibleByArgument {
    case text, json

    var format: LineLogHandler.Format { self == .json ? .json : .text }
}

/// `--resident-instances N`, which `serve`, the one-shot commands and `bundle` share.
enum ResidentInstancesOption {
    static let range = 1...64

    static func check(_ value: Int) throws {
        guard range.contains(value) else {
            throw ValidationError("--resident-instances \(value): give a number of instances from \(range.lowerBound) to \(range.upperBound)")
        }
    }
}

/// `--log-stream`: the stream the log is written to.
enum LogStreamOption: String, ExpressibleByArgument, CaseIterable {
    case stderr, stdout
}
