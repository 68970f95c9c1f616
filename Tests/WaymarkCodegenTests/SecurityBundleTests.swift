import Foundation
import Testing
import WaymarkCodegen
import WaymarkIR
import WaymarkTestSupport

/// Re-sealed bundles (checksum and versions recomputed, as anyone who edits a bundle can) that
/// contradict what the runner relies on are refused, and the refusal names the workflow,
/// function and node.
@Suite struct SecurityBundleTests {
    /// Recomputes the versions and checksum, so only BundleValidator stands in the way.
    static func reseal(_ bundle: WorkflowBundle) -> WorkflowBundle {
        var bundle = bundle
        for index in bundle.workflows.indices {
            bundle.workflows[index].version = BundleWriter.version(wrl: bundle.workflows[index].wrl, functions: bundle.workflows[index].functions, types: bundle.workflows[index].types)
        }
        bundle.checksum = BundleWriter.checksum(of: bundle)
        return bundle
    }

    func refusal(_ bundle: WorkflowBundle) -> String? {
        do {
            _ = try BundleLoader.load(data: Data(BundleWriter.encode(Self.reseal(bundle)).utf8))
            return nil
        } catch {
            return error.description
        }
    }

    /// What the compiler writes always passes: the validator only refuses what it never writes.
    @Test(arguments: ["compile", "run", "optimize"].flatMap { folder in Fixtures.files(in: folder).map { (folder, $0) } })
    func everyCompiledFixturePassesTheValidator(_ folder: String, _ fixture: String) throws {
        let problems = BundleValidator.problems(in: try Bundles.make(fixture, folder: folder))
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func cycleWithoutALoopBackEdgeIsRefused() throws {
        var bundle = try Bundles.make("welcome_email.py")
        let last = bundle.workflows[0].functions[0].nodes.count - 1
        bundle.workflows[0].functions[0].edges.append(DAGEdge(from: last, to: 1, kind: .control, label: .done))
        let message = try #require(refusal(bundle))
        #expect(message.contains("is on a cycle that is not a loop"), "\(message)")
    }

    /// Edge labels are typed when read: text that is no label the compiler writes does not load.
    @Test func anUnknownEdgeLabelDoesNotLoad() throws {
        let text = BundleWriter.encode(try Bundles.make("welcome_email.py"))
        let edited = text.replacingOccurrences(of: "\"each\"", with: "\"elsewhere\"")
        #expect(edited != text, "the fixture has a labelled edge to edit")
        #expect(throws: BundleError.self) { try BundleLoader.load(data: Data(edited.utf8)) }
        do {
            _ = try BundleLoader.load(data: Data(edited.utf8))
        } catch {
            #expect(error.description.contains("unknown edge label 'elsewhere'"), "\(error)")
        }
    }

    @Test func loopBackToANodeThatIsNotItsHeadIsRefused() throws {
        var bundle = try Bundles.make("helpers.py")
        let edge = try #require(bundle.workflows[0].functions[0].edges.firstIndex { $0.kind == .loopBack })
        bundle.workflows[0].functions[0].edges[edge].to = 1
        let message = try #require(refusal(bundle))
        #expect(message.contains("does not lead back to the head of a loop"), "\(message)")
    }

    @Test func actionOutsideTheActionTableIsRefused() throws {
        var bundle = try Bundles.make("welcome_email.py")
        let run = try #require(bundle.workflows[0].functions.firstIndex { $0.name == "run" })
        let node = try #require(bundle.workflows[0].functions[run].nodes.firstIndex { $0.kind == .action })
        let code = bundle.workflows[0].functions[run].nodes[node].code
        let action = try #require(code.range(of: #"action [A-Za-z_.]+\("#, options: .regularExpression))
        bundle.workflows[0].functions[run].nodes[node].code = code.replacingCharacters(in: action, with: "action os.system(")
        let message = try #require(refusal(bundle))
        #expect(message.contains("'os.system'") && message.contains("action table"), "\(message)")
        #expect(message.contains("function 'run', node \(node)"), "\(message)")
    }

    @Test func nodeKindContradictingItsCodeIsRefused() throws {
        var bundle = try Bundles.make("welcome_email.py")
        let node = try #require(bundle.workflows[0].functions[0].nodes.firstIndex { $0.kind == .action })
        bundle.workflows[0].functions[0].nodes[node].kind = .compute
        let message = try #require(refusal(bundle))
        #expect(message.contains("node \(node) (compute)") && message.contains("is not a compute statement"), "\(message)")
    }

    @Test func recursiveHelperIsRefused() throws {
        var bundle = try Bundles.make("helpers.py")
        let functions = bundle.workflows[0].functions
        let subtotal = try #require(functions.firstIndex { $0.name == "subtotal" })
        let total = try #require(functions.firstIndex { $0.name == "total" })
        // total's call of subtotal, planted inside subtotal itself.
        let call = try #require(functions[total].nodes.first { $0.kind == .helper && $0.code.contains("subtotal") })
        let returnNode = try #require(functions[subtotal].nodes.firstIndex { $0.kind == .return })
        bundle.workflows[0].functions[subtotal].nodes[returnNode].kind = .helper
        bundle.workflows[0].functions[subtotal].nodes[returnNode].code = call.code
        let message = try #require(refusal(bundle))
        #expect(message.contains("cycle (subtotal -> subtotal)"), "\(message)")
    }

    @Test func scopeParentCycleIsRefused() throws {
        var bundle = try Bundles.make("nested_loops_try.py")
        let scopes = bundle.workflows[0].functions[0].scopes.count
        try #require(scopes >= 2)
        bundle.workflows[0].functions[0].scopes[0].parent = 1
        bundle.workflows[0].functions[0].scopes[1].parent = 0
        let message = try #require(refusal(bundle))
        #expect(message.contains("scope parents form a cycle") && message.contains("function 'run'"), "\(message)")
    }

    @Test func duplicateRunIsRefused() throws {
        var bundle = try Bundles.make("helpers.py")
        bundle.workflows[0].functions[1].name = "run"
        let message = try #require(refusal(bundle))
        #expect(message.contains("function 'run' is defined twice"), "\(message)")
    }

    @Test func searchPathsOutsideTheBundleNeedPermission() throws {
        var bundle = try Bundles.make("welcome_email.py")
        bundle.searchPaths = [".", "sub/dir", "../elsewhere", "/etc"]
        let problems = BundleValidator.searchPathProblems(in: bundle, bundlePath: "/srv/app/app.wmb", allowed: ["/srv/elsewhere"])
        #expect(problems.count == 1)
        #expect(problems.first?.contains("search path '/etc' is absolute") == true, "\(problems)")
        let strict = BundleValidator.searchPathProblems(in: bundle, bundlePath: "/srv/app/app.wmb", allowed: [])
        #expect(strict.contains { $0.contains("'../elsewhere' leaves the bundle's directory") && $0.contains("--allow-search-path /srv/elsewhere") })
    }

    @Test func deeplyNestedWRLIsASyntaxErrorNotACrash() {
        for text in [String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000),
                     String(repeating: "-", count: 50_000) + "1", String(repeating: "not ", count: 50_000) + "x",
                     String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),
                     (0..<20_000).map { _ in "1" }.joined(separator: " + "),
                     "x" + String(repeating: "[0]", count: 20_000)] {
            #expect(throws: WRLSyntaxError.self) { try WRLParser.parseExpression(text) }
        }
        let blocks = "workflow W in m {\n fn run() {\n" + String(repeating: "if x {\n", count: 5_000) + String(repeating: "}\n", count: 5_000) + "}\n}\n"
        #expect(throws: WRLSyntaxError.self) { try WRLParser.parse(blocks) }
        // What CPython accepts parses: 2,000 chained terms.
        #expect(throws: Never.self) { try WRLParser.parseExpression((0..<2_000).map { _ in "x" }.joined(separator: " + ")) }
    }

    /// Seeded mutations of real bundles: none may crash the loader. Full run: scripts/attack.sh.
    @Test func mutatedBundlesAreRefusedOrLoadWithoutCrashing() throws {
        let count = Int(ProcessInfo.processInfo.environment["WAYMARK_ATTACK_MUTANTS"] ?? "") ?? 200
        var tally = BundleMutations.Tally()
        // scripts/attack.sh runs the mutants that load: written here with an absolute search path.
        let keep = ProcessInfo.processInfo.environment["WAYMARK_ATTACK_MUTANT_DIR"]
        for fixture in ["welcome_email.py", "helpers.py", "try_else_finally.py", "gather_spread.py", "nested_loops_try.py"] {
            var bundle = try Bundles.make(fixture)
            if keep != nil { bundle.searchPaths = [Fixtures.root.appendingPathComponent("compile").standardizedFileURL.path] }
            var index = 0
            tally.add(BundleMutations.run(bundle, count: count / 5, seed: UInt64(fixture.utf8.count)) { category, bytes in
                guard let keep else { return }
                index += 1
                let name = "\(fixture.dropLast(3))-\(index)-\(category).wmb"
                let kept = FileManager.default.createFile(atPath: keep + "/" + name, contents: Data(bytes))
                #expect(kept, "could not keep \(name) in \(keep)")
            })
        }
        if ProcessInfo.processInfo.environment["WAYMARK_ATTACK_TABLE"] != nil { print(tally.rows()) }
        #expect(tally.tried == count / 5 * 5)
        #expect(tally.refused > tally.tried / 2)
    }
}

/// Random edits of a bundle, in two families: raw bytes (flips, truncations: the checksum must
/// catch them) and re-sealed structural edits of kinds, edges, scopes and ids (BundleValidator
/// and the DAG validator must catch those that matter).
enum BundleMutations {
    struct Tally {
        var tried = 0
        var refused = 0
        var loaded = 0
        var byCategory: [String: (tried: Int, refused: Int, loaded: Int)] = [:]

        mutating func record(_ category: String, refused: Bool) {
            tried += 1
            if refused { self.refused += 1 } else { loaded += 1 }
            var row = byCategory[category, default: (0, 0, 0)]
            row.tried += 1
            if refused { row.refused += 1 } else { row.loaded += 1 }
            byCategory[category] = row
        }

        mutating func add(_ other: Tally) {
            for (category, row) in other.byCategory {
                for _ in 0..<row.refused { record(category, refused: true) }
                for _ in 0..<row.loaded { record(category, refused: false) }
            }
        }

        /// `bundle mutation: <kind> | tried | refused | loaded` rows for scripts/attack.sh.
        func rows() -> String {
            byCategory.keys.sorted().map { key in
                let row = byCategory[key, default: (0, 0, 0)]
                return "ATTACK bundle-\(key) \(row.tried) \(row.refused) \(row.loaded)"
            }.joined(separator: "\n")
        }
    }

    /// A small deterministic generator (SplitMix64), so a failing seed reproduces.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { bound <= 0 ? 0 : Int(next() % UInt64(bound)) }
    }

    /// Mutates `bundle` `count` times; `loaded` receives each mutant the loader accepted.
    static func run(_ bundle: WorkflowBundle, count: Int, seed: UInt64, loaded: (String, [UInt8]) -> Void = { _, _ in }) -> Tally {
        var random = Random(state: seed)
        var tally = Tally()
        let encoded = Array(BundleWriter.encode(bundle).utf8)
        for _ in 0..<count {
            let (category, bytes) = mutate(bundle, encoded, &random)
            do {
                _ = try BundleLoader.load(data: Data(bytes))
                tally.record(category, refused: false)
                loaded(category, bytes)
            } catch {
                tally.record(category, refused: true)
            }
        }
        return tally
    }

    static func mutate(_ bundle: WorkflowBundle, _ encoded: [UInt8], _ random: inout Random) -> (String, [UInt8]) {
        switch random.below(6) {
        case 0:
            var bytes = encoded
            for _ in 0...random.below(4) {
                let at = random.below(bytes.count)
                bytes[at] ^= UInt8(1 << random.below(8))
            }
            return ("byte-flip", bytes)
        case 1:
            return ("truncation", Array(encoded.prefix(random.below(encoded.count))))
        default:
            var mutant = bundle
            let w = random.below(mutant.workflows.count)
            let f = random.below(mutant.workflows[w].functions.count)
            var graph = mutant.workflows[w].functions[f]
            let category: String
            switch random.below(5) {
            case 0:
                category = "node-kind"
                let n = random.below(graph.nodes.count)
                graph.nodes[n].kind = DAGNode.Kind.allCases[random.below(DAGNode.Kind.allCases.count)]
            case 1:
                category = "edge"
                if !graph.edges.isEmpty {
                    let e = random.below(graph.edges.count)
                    graph.edges[e].to = random.below(graph.nodes.count + 2) - 1
                }
            case 2:
                category = "scope"
                if !graph.scopes.isEmpty {
                    let s = random.below(graph.scopes.count)
                    graph.scopes[s].parent = random.below(graph.scopes.count + 1) - 1
                }
            case 3:
                category = "node-id"
                let n = random.below(graph.nodes.count)
                graph.nodes[n].id = random.below(graph.nodes.count * 2) - 1
            default:
                category = "node-code"
                let n = random.below(graph.nodes.count)
                let other = random.below(graph.nodes.count)
                graph.nodes[n].code = graph.nodes[other].code
            }
            mutant.workflows[w].functions[f] = graph
            return ("resealed-" + category, Array(BundleWriter.encode(SecurityBundleTests.reseal(mutant)).utf8))
        }
    }
}
