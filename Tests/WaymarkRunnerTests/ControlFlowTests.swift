import Foundation
import Testing
import WaymarkCodegen
import WaymarkDriver
import WaymarkTestSupport
@testable import WaymarkRunner
import WaymarkEval

/// A gateway whose first action ends one chosen way (a Python exception, a suspension or an
/// abandonment) and whose later actions return "done".
struct EndingGateway: ActionGateway {
    let ending: PyError

    func run(_ request: ActionRequest) async throws(PyError) -> Value {
        if request.sequence == 0 { throw ending }
        return .str("done")
    }

    func sleep(sequence: Int, seconds: Double) async throws(PyError) {}
}

/// Only a Python exception is the workflow's to handle: a suspension and an abandonment pass
/// `except` and `finally` untouched and end the run as what they are.
@Suite struct ControlFlowTests {
    static let source = """
        from waymark import Workflow, action, workflow


        @action
        async def work() -> str:
            return "done"


        @workflow
        class GuardedWorkflow(Workflow):
            async def run(self) -> str:
                try:
                    return await work()
                except Exception as error:
                    return "handled " + str(error)
                finally:
                    await work()

        """

    func workflow() throws -> LoadedWorkflow {
        try LoadedWorkflow(try #require(try compileBundle(Self.source, file: "guarded.py").workflows.first))
    }

    func run(_ ending: PyError) async throws -> Result<Value, WorkflowStop> {
        let executor = WorkflowExecutor(workflow: try workflow(), gateway: EndingGateway(ending: ending))
        do {
            return .success(try await executor.run(arguments: [:]))
        } catch {
            return .failure(error)
        }
    }

    @Test func anExceptionIsHandled() async throws {
        guard case .success(.str(let text)) = try await run(.value("boom")) else {
            Issue.record("expected the handler's value")
            return
        }
        #expect(text == "handled boom")
    }

    @Test func aSuspensionPassesHandlersAndFinally() async throws {
        let wake = Date(timeIntervalSince1970: 2_000_000_000)
        guard case .failure(.suspended(let until)) = try await run(.suspend(until: wake)) else {
            Issue.record("expected a suspension")
            return
        }
        #expect(until == wake)
    }

    @Test func anAbandonmentPassesHandlersAndFinally() async throws {
        guard case .failure(.abandoned(let reason)) = try await run(.abandon("the store is gone")) else {
            Issue.record("expected an abandonment")
            return
        }
        #expect(reason == "the store is gone")
    }
}
