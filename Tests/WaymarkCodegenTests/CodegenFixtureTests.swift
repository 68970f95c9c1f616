import Foundation
import Testing
import WaymarkTestSupport
import WaymarkCodegen
import WaymarkCompiler
import WaymarkDriver
import WaymarkIR
import WaymarkHash

/// Bundles for the fixtures, as `waymarkc compile` writes them next to the fixture folder.
enum Bundles {
    static func make(_ fixture: String, folder: String = "compile") throws -> WorkflowBundle {
        let result = try Fixtures.compile(folder, fixture)
        return try #require(try Driver().bundle(result, bundleDirectory: Fixtures.root.appendingPathComponent(folder).path))
    }

    static func make(source: String, named name: String) throws -> WorkflowBundle {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("waymark-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent(name).path
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try Compiler().compile(path: path)
        return try #require(try Driver().bundle(result, bundleDirectory: directory.path))
    }
}

@Suite struct CodegenFixtureTests {
    static let fixtures = Fixtures.files(in: "compile")
    /// Whole bundles are golden for a representative few; every fixture has a golden DOT.
    static let bundleFixtures = ["welcome_email.py", "helpers.py", "try_else_finally.py", "gather_spread.py", "nested_loops_try.py"]

    @Test(arguments: fixtures)
    func graphsValidateAndDrawAsGoldenDOT(_ fixture: String) throws {
        let bundle = try Bundles.make(fixture)
        for workflow in bundle.workflows {
            for function in workflow.functions {
                #expect(DAGValidator().validate(function) == [], "\(workflow.name).\(function.name)")
            }
        }
        Fixtures.expectGolden(DotWriter().dot(bundle.workflows), folder: "compile", fixture: fixture, suffix: ".dot")
    }

    @Test(arguments: bundleFixtures)
    func bundleIsGolden(_ fixture: String) throws {
        let bundle = try Bundles.make(fixture)
        Fixtures.expectGolden(BundleWriter.encode(bundle), folder: "compile", fixture: fixture, suffix: ".wmb")
    }

    @Test(arguments: fixtures)
    func bundleLoadsBackIdentical(_ fixture: String) throws {
        let bundle = try Bundles.make(fixture)
        let text = BundleWriter.encode(bundle)
        let loaded = try BundleLoader.load(data: Data(text.utf8))
        #expect(loaded == bundle)
        #expect(BundleWriter.encode(try Bundles.make(fixture)) == text, "compiling twice must give the same bytes")
    }

    /// Every golden DOT is accepted by Graphviz (when it is installed; .ci/run installs it).
    @Test(.enabled(if: Graphviz.dotExecutable() != nil), arguments: fixtures)
    func graphvizAcceptsGoldenDOT(_ fixture: String) async throws {
        let path = Fixtures.path("compile", (fixture as NSString).deletingPathExtension + ".dot")
        let dot = try String(contentsOfFile: path, encoding: .utf8)
        let program = try #require(Graphviz.dotExecutable())
        // Waiting on `dot` happens on a thread of its own, not on Swift's cooperative threads.
        let svg: Data = try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try Graphviz.render(dot, format: "svg", program: program) }) }.start()
        }
        #expect(String(decoding: svg, as: UTF8.self).contains("<svg"))
    }

    /// The runnable and optimizer fixtures (which have no golden DOT) draw with Graphviz too.
    @Test(.enabled(if: Graphviz.dotExecutable() != nil), arguments: Fixtures.files(in: "run").map { ("run", $0) } + Fixtures.files(in: "optimize").map { ("optimize", $0) })
    func graphvizDrawsEveryRunnableFixture(_ folder: String, _ fixture: String) async throws {
        let workflows = try Bundles.make(fixture, folder: folder).workflows
        guard !workflows.isEmpty else { return }  // a support module, no workflow to draw
        let dot = DotWriter().dot(workflows)
        let program = try #require(Graphviz.dotExecutable())
        let svg: Data = try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try Graphviz.render(dot, format: "svg", program: program) }) }.start()
        }
        #expect(String(decoding: svg, as: UTF8.self).contains("<svg"))
    }
}

@Suite struct WorkflowVersionTests {
    static let original = """
        from waymark import Workflow, action, workflow


        @action
        async def greet(name: str, punctuation: str = "!") -> str:
            return name + punctuation


        @workflow
        class GreetWorkflow(Workflow):
            async def run(self, name: str) -> str:
                greeting = await greet(name, "!")
                return greeting.upper()
        """

    func version(_ source: String) throws -> String {
        try #require(try Bundles.make(source: source, named: "greet.py").workflows.first).version
    }

    @Test func commentsAndFormattingKeepTheVersion() throws {
        let reformatted = """
            # A comment at the top moves every line down.
            from waymark import Workflow, action, workflow

            @action
            async def greet(name: str, punctuation: str = "!") -> str:
                return name + punctuation

            @workflow
            class GreetWorkflow(Workflow):
                async def run(self, name: str) -> str:
                    # say hello
                    greeting = await greet(  name,
                                           "!" )   # trailing comment
                    return greeting.upper()
            """
        #expect(try version(Self.original) == version(reformatted))
    }

    @Test func changingAnActionArgumentChangesTheVersion() throws {
        let changed = Self.original.replacingOccurrences(of: "greet(name, \"!\")", with: "greet(name, \"?\")")
        #expect(changed != Self.original)
        #expect(try version(Self.original) != version(changed))
    }

    @Test func changingTheActionSignatureChangesTheVersion() throws {
        let changed = Self.original.replacingOccurrences(of: "punctuation: str = \"!\"", with: "punctuation: str = \"!\", loud: bool = False")
        #expect(try version(Self.original) != version(changed))
    }
}

@Suite struct BundleRejectionTests {
    func text() throws -> String {
        BundleWriter.encode(try Bundles.make("welcome_email.py"))
    }

    func rejection(_ text: String) -> BundleError? {
        do {
            _ = try BundleLoader.load(data: Data(text.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func truncatedBundleIsRejected() throws {
        let full = try text()
        for length in [0, 1, full.count / 3, full.count - 3] {
            guard case .notJSON? = rejection(String(full.prefix(length))) else {
                Issue.record("a bundle cut to \(length) bytes was not rejected as truncated")
                continue
            }
        }
    }

    @Test func foreignJSONIsRejected() {
        guard case .wrongFormat(let found)? = rejection(#"{"format": "something-else", "version": 1}"#) else {
            Issue.record("expected wrongFormat")
            return
        }
        #expect(found == "something-else")
        guard case .wrongFormat? = rejection("[1, 2, 3]") ?? .wrongFormat(found: "") else { return }
    }

    @Test func unknownVersionIsRejected() throws {
        let newer = try text().replacingOccurrences(of: "\"version\" : \(WorkflowBundle.formatVersion),", with: "\"version\" : 99,")
        #expect(rejection(newer) == .unsupportedVersion(found: 99))
    }

    @Test func editedContentFailsTheChecksum() throws {
        let tampered = try text().replacingOccurrences(of: "subject=\\\"Welcome\\\"", with: "subject=\\\"Goodbye\\\"")
        #expect(tampered != (try text()))
        guard case .checksumMismatch? = rejection(tampered) else {
            Issue.record("expected a checksum mismatch")
            return
        }
    }

    @Test func editedContentWithARecomputedChecksumFailsTheVersion() throws {
        var bundle = try Bundles.make("welcome_email.py")
        bundle.workflows[0].wrl = bundle.workflows[0].wrl.replacingOccurrences(of: "Welcome", with: "Goodbye")
        bundle.checksum = BundleWriter.checksum(of: bundle)
        #expect(rejection(BundleWriter.encode(bundle)) == .workflowVersionMismatch(workflow: "WelcomeEmailWorkflow"))
    }

    @Test func brokenGraphIsRejected() throws {
        var bundle = try Bundles.make("welcome_email.py")
        bundle.workflows[0].functions[0].edges.append(DAGEdge(from: 0, to: 999, kind: .control))
        bundle.workflows[0].version = BundleWriter.version(wrl: bundle.workflows[0].wrl, functions: bundle.workflows[0].functions, types: bundle.workflows[0].types)
        bundle.checksum = BundleWriter.checksum(of: bundle)
        guard case .invalidGraph(let workflow, let function, let problems)? = rejection(BundleWriter.encode(bundle)) else {
            Issue.record("expected an invalid graph")
            return
        }
        #expect(workflow == "WelcomeEmailWorkflow" && function == "run")
        #expect(problems.contains { $0.contains("dangling") })
    }

    @Test func messagesNameTheProblem() {
        #expect(BundleError.unsupportedVersion(found: 2).description.contains("version 2 is not supported"))
        #expect(BundleError.checksumMismatch(expected: "a", actual: "b").description.contains("modified or corrupted"))
        #expect(BundleError.notJSON(reason: "x").description.contains("truncated"))
    }
}

@Suite struct DAGValidatorTests {
    func graph(nodes: [DAGNode], edges: [DAGEdge], scopes: [DAGScope] = []) -> FunctionGraph {
        FunctionGraph(name: "run", params: [], entry: 0, nodes: nodes, edges: edges, scopes: scopes)
    }

    func node(_ id: Int, _ kind: DAGNode.Kind, uses: [String] = [], defines: [String] = [], scopes: [Int] = []) -> DAGNode {
        DAGNode(id: id, kind: kind, code: "\(kind)", scopes: scopes, uses: uses, defines: defines)
    }

    @Test func soundGraphPasses() {
        let g = graph(
            nodes: [node(0, .input, defines: ["x"]), node(1, .return, uses: ["x"])],
            edges: [DAGEdge(from: 0, to: 1, kind: .control), DAGEdge(from: 0, to: 1, kind: .data, variable: "x")])
        #expect(DAGValidator().validate(g) == [])
    }

    @Test func unreachableNodeIsReported() {
        let g = graph(nodes: [node(0, .input), node(1, .return), node(2, .compute)], edges: [DAGEdge(from: 0, to: 1, kind: .control)])
        #expect(DAGValidator().validate(g).contains { $0.contains("node 2") && $0.contains("not reachable") })
    }

    @Test func dataEdgeFromANonDefiningNodeIsReported() {
        let g = graph(
            nodes: [node(0, .input), node(1, .return, uses: ["x"])],
            edges: [DAGEdge(from: 0, to: 1, kind: .control), DAGEdge(from: 0, to: 1, kind: .data, variable: "x")])
        #expect(DAGValidator().validate(g).contains { $0.contains("does not define") })
    }

    @Test func loopWithoutExitIsReported() {
        let g = graph(
            nodes: [node(0, .input), node(1, .loopHead, scopes: [0]), node(2, .loopExit, scopes: [0])],
            edges: [DAGEdge(from: 0, to: 1, kind: .control), DAGEdge(from: 1, to: 1, kind: .loopBack), DAGEdge(from: 1, to: 2, kind: .control)],
            scopes: [DAGScope(id: 0, kind: .loop, parent: nil, label: "while True", head: 1, exit: 2)])
        #expect(DAGValidator().validate(g).contains { $0.contains("no exit edge") })
    }
}

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(String(repeating: "a", count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}

@Suite struct OutputFileTests {
    /// `waymarkc compile -o /dev/null` once replaced the device with a plain file (an atomic
    /// write renames over its target).
    @Test func writingToADeviceWritesInPlace() throws {
        try OutputFile.write(Data("bundle".utf8), to: "/dev/null")
        let type = try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type] as? FileAttributeType
        #expect(type == .typeCharacterSpecial)
    }

    @Test func regularFilesAreWrittenWhole() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("waymark-\(UUID().uuidString).wmb").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try OutputFile.write(Data("first".utf8), to: path)
        try OutputFile.write(Data("second".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second")
        #expect(throws: OutputFile.WriteError.self) { try OutputFile.write(Data(), to: FileManager.default.temporaryDirectory.path) }
    }
}
