import ArgumentParser
import Foundation
import WaymarkCodegen
import WaymarkRunner
import WaymarkEval

/// Limits on what `--input`/`--inputs` may hold. Inputs come from outside (a form field, a
/// queue), so each limit is checked before anything is stored: an oversized batch creates no
/// instance at all.
struct InputLimits: ParsableArguments {
    @Option(help: "Largest accepted JSON input, in bytes, per instance (default: WAYMARK_MAX_INPUT_BYTES, else 10000000).")
    var maxInputBytes: Int?

    @Option(help: "Most instances one --inputs file may create (default: WAYMARK_MAX_BATCH_INSTANCES, else 100000).")
    var maxBatchInstances: Int?

    var inputBytes: Int { maxInputBytes ?? environmentInt("WAYMARK_MAX_INPUT_BYTES") ?? 10_000_000 }
    var batchInstances: Int { maxBatchInstances ?? environmentInt("WAYMARK_MAX_BATCH_INSTANCES") ?? 100_000 }

    /// Parses one instance's input under the input limits; `origin` names it in the error
    /// (`--input`, `file:line`).
    func parse(_ text: String, origin: String) -> JSON {
        let size = text.utf8.count
        guard size <= inputBytes else {
            fail("\(origin) is \(size) bytes, more than the limit of \(inputBytes) (--max-input-bytes or WAYMARK_MAX_INPUT_BYTES)")
        }
        do {
            return try JSON.parse(text, limits: .input)
        } catch {
            fail("\(origin) is not valid JSON: \(error)")
        }
    }
}

/// The workflow `name` picks in the bundle at `path` and `--input` checked against its `run()`:
/// what `submit` queues and `schedule add` stores, refused (exit 2) before anything is written.
func workflowAndInput(bundle path: String, workflow name: String?, input: String, limits: InputLimits) -> (BundleWorkflow, JSON) {
    let chosen: BundleWorkflow
    do {
        chosen = try Runner.choose(name, in: loadBundle(path))
    } catch {
        fail(error.description)
    }
    let json = limits.parse(input, origin: "--input")
    do {
        _ = try Runner.arguments(json, for: chosen)
    } catch {
        fail("--input: \(error.description)")
    }
    return (chosen, json)
}

/// Where `--allow-search-path` is given: run and serve, the commands that start workers.
struct SearchPathFlags: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Let the workers import from this directory although the bundle's search path leaves the bundle's directory (repeatable).",
        valueName: "dir"))
    var allowSearchPath: [String] = []
}

/// Loads a bundle whose workers will run: its search paths must stay in its directory or be allowed.
func loadRunnableBundle(_ path: String, allowing: SearchPathFlags) -> WorkflowBundle {
    do {
        return try BundleLoader.load(path: path, allowedSearchPaths: allowing.allowSearchPath)
    } catch {
        fail("\(error)")
    }
}
