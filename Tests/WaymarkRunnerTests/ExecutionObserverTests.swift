import Foundation
import Testing
import WaymarkCodegen
import WaymarkDriver
import WaymarkTestSupport
@testable import WaymarkRunner
import WaymarkEval

/// Ends the run at one effect (by sequence) the chosen way; the others return 1.
struct StopAtGateway: ActionGateway {
    let sequence: Int
    let ending: PyError

    func run(_ request: ActionRequest) async throws(PyError) -> Value {
        if request.sequence == sequence { throw ending }
        return .int(1)
    }

    func sleep(sequence: Int, seconds: Double) async throws(PyError) {}
}

/// Notes what the executor reports, as the dashboard's replay does.
final class NoteTaker: ExecutionObserver, @unchecked Sendable {
    let lock = NSLock()
    var entered: [Int] = []
    var stopped: [Int] = []
    var failed: [Int] = []
    let budget: Int

    init(budget: Int = .max) {
        self.budget = budget
    }

    func entered(function: String, node: Int) -> Bool {
        lock.withLock {
            entered.append(node)
            return entered.count <= budget
        }
    }

    func stopped(function: String, node: Int) { lock.withLock { stopped.append(node) } }
    func failed(function: String, node: Int) { lock.withLock { failed.append(node) } }
}

/// The executor's observer: the nodes a run passes, where it stopped, which node raised the
/// exception that failed it (the dashboard colours an instance's DAG from these).
@Suite struct ExecutionObserverTests {
    static let source = """
        from waymark import Workflow, action, workflow


        @action
        async def first() -> int:
            return 1


        @action
        async def second() -> int:
            return 2


        @action
        async def third() -> int:
            return 3


        @workflow
        class ThreeSteps(Workflow):
            async def run(self) -> int:
                a = await first()
                b = await second()
                c = await third()
                return a + b + c

        """

    func workflow() throws -> LoadedWorkflow {
        try LoadedWorkflow(try #require(try compileBundle(Self.source, file: "three.py").workflows.first))
    }

    /// The node of `run` whose WRL calls `action`.
    func node(_ workflow: LoadedWorkflow, calling action: String) throws -> Int {
        let graph = try #require(workflow.workflow.functions.first { $0.name == "run" })
        return try #require(graph.nodes.first { $0.kind == .action && $0.code.contains("\(action)(") }?.id)
    }

    func observe(_ ending: PyError, budget: Int = .max) async throws -> (NoteTaker, LoadedWorkflow) {
        let workflow = try workflow()
        let notes = NoteTaker(budget: budget)
        let executor = WorkflowExecutor(workflow: workflow, gateway: StopAtGateway(sequence: 1, ending: ending), observer: notes)
        _ = try? await executor.run(arguments: [:])
        return (notes, workflow)
    }

    @Test func aStopIsReportedAtTheNodeThatRan() async throws {
        let (notes, workflow) = try await observe(.abandon("not recorded"))
        let first = try node(workflow, calling: "first"), second = try node(workflow, calling: "second")
        #expect(notes.entered.contains(first) && notes.entered.contains(second))
        #expect(!notes.entered.contains(try node(workflow, calling: "third")))
        #expect(notes.stopped == [second] && notes.failed.isEmpty)
    }

    @Test func aFailureIsReportedAtTheNodeThatRaised() async throws {
        let (notes, workflow) = try await observe(.value("boom"))
        #expect(notes.failed == [try node(workflow, calling: "second")] && notes.stopped.isEmpty)
        #expect(!notes.entered.contains(try node(workflow, calling: "third")))
    }

    @Test func theObserverCanStopARun() async throws {
        let (notes, _) = try await observe(.value("never reached"), budget: 1)
        #expect(notes.entered.count == 2 && notes.stopped.count == 1 && notes.failed.isEmpty)
    }
}
