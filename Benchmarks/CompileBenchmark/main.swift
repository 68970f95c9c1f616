// Compile benchmark: every fixture compiled in one process, next to bare CPython parsing the
// same files in the same run. Prints a table; asserts nothing.
//
//     swift run -c release compile-benchmark [rounds]
import Foundation
import WaymarkCodegen
import WaymarkCompiler
import WaymarkDriver
import WaymarkIR

let rounds = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 20
/// Each row is the best of this many repetitions: the machine's other work only ever adds time.
let repetitions = 7
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let fixtures = root.appendingPathComponent("Fixtures")
let files: [String] = ["compile", "run", "optimize", "check"].flatMap { folder -> [String] in
    let directory = fixtures.appendingPathComponent(folder)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { $0.hasSuffix(".py") && $0 != "teststate.py" }.sorted().map { directory.appendingPathComponent($0).path }
}

/// The time of one call of `body`, in seconds.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

// Start the embedded interpreter before timing anything (once per process, ~20 ms).
let startupBegan = DispatchTime.now().uptimeNanoseconds
_ = try? PythonBridge.shared()
let startup = Double(DispatchTime.now().uptimeNanoseconds - startupBegan) / 1e9
guard let bridge = try? PythonBridge.shared() else {
    print("cannot start the embedded Python")
    exit(1)
}
// What waymarkc parses to compile one fixture: the file and the project modules it imports.
// The baseline parses exactly these, as often as the compiler does.
let parsed: [String] = files.flatMap { file -> [String] in
    guard let result = try? Driver().compile(file: file) else { return [file] }
    return [file] + result.files.keys.filter { $0 != file }.sorted()
}
let sources = parsed.map { (path: $0, text: (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "") }

/// Every round runs on one large-stack thread, as `waymarkc` runs its command: the compiler's
/// own `LargeStack.run` then stays on it instead of starting a thread per file.
func compileAll(_ files: [String], optimize: Bool, bundle: Bool = true) -> Double {
    let driver = Driver(options: CompileOptions(optimize: optimize))
    return LargeStack.run { seconds {
        for _ in 0..<rounds {
            for file in files {
                guard let result = try? driver.compile(file: file) else { continue }
                if bundle, result.program != nil {
                    _ = try? driver.bundle(result, bundleDirectory: (file as NSString).deletingLastPathComponent)
                }
            }
        }
    } }
}

func parseAll() -> Double {
    seconds {
        for _ in 0..<rounds {
            for source in sources { _ = try? bridge.parse(source: source.text, filename: source.path) }
        }
    }
}

// The baseline: the system's own python3 parsing the same files with ast.parse, timed inside
// Python so interpreter start-up is not counted.
let script = """
    import ast, sys, time
    files = sys.argv[2:]
    sources = [(f, open(f, encoding="utf-8").read()) for f in files]
    start = time.perf_counter()
    for _ in range(int(sys.argv[1])):
        for name, text in sources:
            ast.parse(text, name)
    print(time.perf_counter() - start)
    """

func bareParse() -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: PythonBridge.systemInterpreter)
    process.arguments = ["-c", script, String(rounds)] + parsed
    let output = Pipe()
    process.standardOutput = output
    guard (try? process.run()) != nil else { return .nan }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Double(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan
}

// Every measurement once per repetition, interleaved, keeping each one's best: a busy spell on
// the machine then slows one repetition of every row instead of all repetitions of one row.
var bare = Double.infinity, parseOnly = Double.infinity, frontEnd = Double.infinity
var unoptimized = Double.infinity, optimized = Double.infinity
for _ in 0..<repetitions {
    bare = min(bare, bareParse())
    parseOnly = min(parseOnly, parseAll())
    frontEnd = min(frontEnd, compileAll(files, optimize: true, bundle: false))
    unoptimized = min(unoptimized, compileAll(files, optimize: false))
    optimized = min(optimized, compileAll(files, optimize: true))
}

let count = Double(files.count * rounds)
func row(_ name: String, _ total: Double, baseline: Double) -> String {
    let perFile = total / count * 1e6
    let ratio = total / baseline
    return name.padding(toLength: 38, withPad: " ", startingAt: 0)
        + String(format: "%10.1f %14.1f %10.2fx", total * 1000, perFile, ratio)
}
print("compile benchmark: \(files.count) workflow files (\(parsed.count) parses with their imported project modules) x \(rounds) rounds, best of \(repetitions) interleaved")
print("embedded Python start-up: \(String(format: "%.1f", startup * 1000)) ms, once per process, not counted")
print("".padding(toLength: 38, withPad: " ", startingAt: 0) + "  total ms    per file µs    vs parse")
print(row("bare CPython ast.parse (same files)", bare, baseline: bare))
print(row("waymarkc: CPython parse, read to Swift", parseOnly, baseline: bare))
print(row("waymarkc compile -O (to WRL, no bundle)", frontEnd, baseline: bare))
print(row("waymarkc compile -O0 (to bundle)", unoptimized, baseline: bare))
print(row("waymarkc compile -O (to bundle)", optimized, baseline: bare))
