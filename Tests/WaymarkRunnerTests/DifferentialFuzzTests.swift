import Foundation
import Testing
import WaymarkTestSupport
import WaymarkCodegen
import WaymarkCompiler
import WaymarkDriver
import WaymarkIR
import WaymarkRunner
import WaymarkEval

/// The differential fuzzer: random valid workflows (scripts/fuzz/generate.py, seeded), each run
/// inline in Python and compiled at -O0 and -O, with the canonical outcomes compared as the
/// parity suite compares them.
///
/// For speed the generator writes many workflows into a few module files and runs the inline
/// baseline for all of them in its one Python process; each file is compiled once per
/// optimization level in-process, and every instance runs in one runner with one worker pool.
///
/// `swift test` runs a fixed seed; `scripts/fuzz.sh N [SEED]` runs others through
/// WAYMARK_FUZZ_COUNT / WAYMARK_FUZZ_SEED and prints every divergence with its program.
struct FuzzProgram: Sendable {
    var workflow: String
    var source: String
    var input: JSON
    var inline: String
}

/// One generated module: the shared header (actions), then its programs' classes.
struct FuzzModule: Sendable {
    var path: String
    var programs: [FuzzProgram]
}

/// What a batch found.
struct FuzzReport: Sendable {
    var generated = 0
    /// Programs Python rejects (a syntax error, a NameError from a generator slip) or takes over
    /// fifteen seconds to run: left out, and counted.
    var pythonRejected = 0
    var compilerRejected: [String] = []
    var ran = 0
    var divergences: [String] = []
    /// Programs Graphviz could not draw, with its first line.
    var undrawable: [String] = []

    var summary: String {
        "fuzz: programs \(generated + pythonRejected), python-rejected \(pythonRejected), compiled \(generated - compilerRejected.count), "
            + "compiler-rejected \(compilerRejected.count), ran \(ran), divergences \(divergences.count)"
    }
}

enum DifferentialFuzz {
    static let generator = Fixtures.packageRoot.appendingPathComponent("scripts/fuzz/generate.py").path

    /// Generates `count` programs from `seed` into `directory`, with their inline outcomes.
    static func generate(seed: Int, count: Int, into directory: URL) async throws -> (header: String, modules: [FuzzModule], rejected: Int) {
        let (status, out, err) = try await Python.run(
            [generator, "--seed", String(seed), "--count", String(count), "--per-file", "40", "--out", directory.path],
            environment: ["WAYMARK_SLEEP_SCALE": "0", "WAYMARK_TEST_STATE": directory.appendingPathComponent("state").path,
                          "PYTHONWARNINGS": "ignore"])
        guard status == 0 else { throw RunnerError("the fuzz generator failed (\(status)): \(err)") }
        let json = try JSON.parse(out)
        guard let header = json["header"]?.stringValue, case .array(let files)? = json["files"] else {
            throw RunnerError("the fuzz generator printed no manifest")
        }
        var modules: [FuzzModule] = []
        for file in files {
            guard let path = file["path"]?.stringValue, case .array(let entries)? = file["programs"] else { continue }
            let programs = entries.compactMap { entry -> FuzzProgram? in
                guard let workflow = entry["workflow"]?.stringValue, let source = entry["source"]?.stringValue,
                    let inline = entry["inline"]?.stringValue, let input = entry["input"]
                else { return nil }
                return FuzzProgram(workflow: workflow, source: source, input: input, inline: inline)
            }
            modules.append(FuzzModule(path: path, programs: programs))
        }
        let discarded = (json["discarded"]?["python_rejected"]?.intValue ?? 0) + (json["discarded"]?["python_too_slow"]?.intValue ?? 0)
        return (header, modules, discarded)
    }

    /// The module's text and the line range of each program in it (as generate.py lays it out).
    static func layout(header: String, programs: [FuzzProgram]) -> (String, [ClosedRange<Int>]) {
        var text = header
        var ranges: [ClosedRange<Int>] = []
        for program in programs {
            let first = text.filter { $0 == "\n" }.count + 3
            text += "\n\n" + program.source
            ranges.append(first...text.filter { $0 == "\n" }.count)
        }
        return (text, ranges)
    }

    /// Compiles a module at both levels. A program the compiler rejects is reported (Python ran
    /// it) and left out, and the module is written again without it; so is a program on which
    /// the compiler fails (found by compiling the module's programs one at a time).
    static func compile(_ module: FuzzModule, header: String, report: inout FuzzReport) throws -> (FuzzModule, [Bool: WorkflowBundle]) {
        var module = module
        for _ in 0..<8 {
            let (text, ranges) = layout(header: header, programs: module.programs)
            try text.write(toFile: module.path, atomically: true, encoding: .utf8)
            let result: CompileResult
            do {
                result = try Driver(options: CompileOptions(optimize: false)).compile(file: module.path)
                if result.diagnostics.allSatisfy({ $0.severity != .error }) {
                    return (module, try bundles(module.path, unoptimized: result))
                }
            } catch {
                let failing = try module.programs.indices.filter { index in
                    let (alone, _) = layout(header: header, programs: [module.programs[index]])
                    try alone.write(toFile: module.path, atomically: true, encoding: .utf8)
                    do {
                        _ = try bundles(module.path)
                        return false
                    } catch {
                        let program = module.programs[index]
                        report.compilerRejected.append(
                            "COMPILER FAILS on a program Python runs (\(program.workflow), Python gives \(program.inline)): \(error)\n\(program.source)")
                        return true
                    }
                }
                if failing.isEmpty { throw error }
                module.programs = module.programs.enumerated().filter { !failing.contains($0.offset) }.map(\.element)
                continue
            }
            let errors = result.diagnostics.filter { $0.severity == .error }
            var rejected = Set<Int>()
            for error in errors {
                if let index = ranges.firstIndex(where: { $0.contains(error.range.start.line) }) { rejected.insert(index) }
            }
            if rejected.isEmpty { throw RunnerError("a generated module does not compile:\n\(Fixtures.render(result))") }
            for index in rejected.sorted() {
                let program = module.programs[index]
                let own = errors.filter { ranges[index].contains($0.range.start.line) }
                    .map { "  line \($0.range.start.line - ranges[index].lowerBound + 1): error[\($0.code)]: \($0.message)" }
                report.compilerRejected.append(
                    "COMPILER REJECTS a program Python runs (\(program.workflow), Python gives \(program.inline)):\n"
                        + own.joined(separator: "\n") + "\n" + program.source)
            }
            module.programs = module.programs.enumerated().filter { !rejected.contains($0.offset) }.map(\.element)
        }
        throw RunnerError("\(module.path): still rejected after leaving out eight rounds of programs")
    }

    /// The module's bundles at -O0 (false) and -O (true); `unoptimized` is its -O0 compilation
    /// when the caller has it already.
    static func bundles(_ path: String, unoptimized: CompileResult? = nil) throws -> [Bool: WorkflowBundle] {
        var bundles: [Bool: WorkflowBundle] = [:]
        let directory = (path as NSString).deletingLastPathComponent
        for optimize in [false, true] {
            let result = try (optimize ? nil : unoptimized) ?? Driver(options: CompileOptions(optimize: optimize)).compile(file: path)
            guard result.diagnostics.allSatisfy({ $0.severity != .error }),
                let bundle = try Driver().bundle(result, bundleDirectory: directory)
            else {
                throw RunnerError("\(path) compiles at -O0 but not at -O:\n\(Fixtures.render(result))")
            }
            bundles[optimize] = bundle
        }
        return bundles
    }

    /// One batch: generate, compile, run everything, compare.
    static func run(seed: Int, count: Int) async throws -> FuzzReport {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }  // a leftover temp folder harms nothing
        let (header, generated, pythonRejected) = try await generate(seed: seed, count: count, into: directory)
        var report = FuzzReport(generated: generated.reduce(0) { $0 + $1.programs.count }, pythonRejected: pythonRejected)
        var jobs: [(FuzzProgram, Bool, LoadedWorkflow)] = []
        var bundles: [[Bool: WorkflowBundle]] = []
        var first: WorkflowBundle?
        var workflows: [BundleWorkflow] = []
        for module in generated {
            let (compiled, levels) = try compile(module, header: header, report: &report)
            bundles.append(levels)
            for (optimize, bundle) in levels.sorted(by: { !$0.key && $1.key }) {
                first = first ?? bundle
                workflows += bundle.workflows
                for program in compiled.programs {
                    guard let workflow = bundle.workflow(named: program.workflow) else {
                        throw RunnerError("\(program.workflow) is missing from its bundle")
                    }
                    jobs.append((program, optimize, try LoadedWorkflow(workflow)))
                }
            }
        }
        guard var bundle = first else { return report }
        // The runner's workers may import only the modules its bundle's actions come from.
        bundle.workflows = workflows
        // Every program's graph, as `waymarkc compile` (optimized) writes it, drawn while the
        // programs run.
        async let undrawable = draw(bundles.flatMap { $0[true]?.workflows ?? [] })
        // Every module lives in one folder, so one runner (one worker pool) serves all bundles.
        let options = RunnerOptions(
            workers: 2, concurrencyPerWorker: 50, sleepScale: 0, pythonPackage: Python.package,
            environment: ["WAYMARK_TEST_STATE": directory.appendingPathComponent("state").path])
        let runner = try Runner(bundle: bundle, bundlePath: directory.appendingPathComponent("bundle.wmb").path, options: options)
        let outcomes = await withTaskGroup(of: (Int, String).self) { group in
            var results: [Int: String] = [:]
            var next = 0
            func start(_ index: Int) {
                let (program, _, workflow) = jobs[index]
                group.addTask {
                    do {
                        let arguments = try Runner.arguments(program.input, for: workflow.workflow)
                        return (index, await runner.run(workflow, input: program.input, arguments: arguments).canonical())
                    } catch {
                        return (index, "input refused: \(error)")
                    }
                }
            }
            while next < min(jobs.count, 32) {
                start(next)
                next += 1
            }
            while let (index, outcome) = await group.next() {
                results[index] = outcome
                if next < jobs.count {
                    start(next)
                    next += 1
                }
            }
            return results
        }
        await runner.shutdown()
        report.undrawable = await undrawable
        report.ran = jobs.count / 2
        var diverged: [String: [String]] = [:]
        var order: [String] = []
        for (index, (program, optimize, _)) in jobs.enumerated() {
            let compiled = outcomes[index] ?? "no outcome"
            guard compiled != program.inline else { continue }
            if diverged[program.workflow] == nil {
                order.append(program.workflow)
                diverged[program.workflow] = ["DIVERGENCE in \(program.workflow), input \(program.input.serialized())", "  python:   \(program.inline)"]
            }
            diverged[program.workflow]?.append("  \(optimize ? "-O " : "-O0"):      \(compiled)")
        }
        let sources = Dictionary(generated.flatMap(\.programs).map { ($0.workflow, $0.source) }, uniquingKeysWith: { a, _ in a })
        report.divergences = order.map { (diverged[$0] ?? []).joined(separator: "\n") + "\n" + (sources[$0] ?? "") }
        return report
    }
}

extension DifferentialFuzz {
    /// Renders each workflow's graph with Graphviz, one `dot` process at a time on each of
    /// `lanes` threads of their own (never cooperative ones); the failures, or nothing when
    /// `dot` is not installed. One process per graph: Graphviz 2.43 given several graphs in one
    /// input with these attributes aborted on a double free.
    static func draw(_ workflows: [BundleWorkflow], lanes: Int = max(2, ProcessInfo.processInfo.activeProcessorCount)) async -> [String] {
        guard let program = Graphviz.dotExecutable() else { return [] }
        return await withTaskGroup(of: [String].self) { group in
            for lane in 0..<lanes {
                let share = Array(workflows.enumerated().filter { $0.offset % lanes == lane }.map(\.element))
                group.addTask {
                    await withCheckedContinuation { continuation in
                        Thread {
                            var failures: [String] = []
                            for workflow in share {
                                do {
                                    _ = try Graphviz.render(DotWriter().dot([workflow]), format: "svg", program: program)
                                } catch {
                                    failures.append("\(workflow.name): \(error)")
                                }
                            }
                            continuation.resume(returning: failures)
                        }.start()
                    }
                }
            }
            return await group.reduce(into: []) { $0 += $1 }.sorted()
        }
    }
}

@Suite struct DifferentialFuzzTests {
    /// A fixed-seed batch; scripts/fuzz.sh sets WAYMARK_FUZZ_COUNT and WAYMARK_FUZZ_SEED for long runs.
    @Test func generatedWorkflowsMatchPython() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["WAYMARK_FUZZ_SEED"].flatMap { Int($0) } ?? 1
        let count = environment["WAYMARK_FUZZ_COUNT"].flatMap { Int($0) } ?? 240
        let report = try await DifferentialFuzz.run(seed: seed, count: count)
        for finding in report.compilerRejected + report.divergences { print(finding + "\n----") }
        print("\(report.summary) (seed \(seed))")
        #expect(report.compilerRejected.isEmpty, "the compiler rejected programs Python runs; see above")
        #expect(report.divergences.isEmpty, "compiled runs diverge from Python; see above")
        #expect(report.undrawable.isEmpty, "Graphviz cannot draw: \(report.undrawable)")
        #expect(report.ran >= min(count, 200) * 3 / 4, "too few generated programs ran: \(report.summary)")
    }
}
