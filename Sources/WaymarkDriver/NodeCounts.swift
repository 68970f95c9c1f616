import WaymarkCodegen
import WaymarkIR

/// Graph sizes, for `waymarkc compile --stats` and the optimizer's tests.
public enum NodeCounts {
    /// Nodes over all of each workflow's function graphs.
    public static func perWorkflow(_ program: WRLProgram) -> [String: Int] {
        var counts: [String: Int] = [:]
        for workflow in program.workflows {
            counts[workflow.name] = workflow.functions.map { DAGBuilder().build($0).graph.nodes.count }.reduce(0, +)
        }
        return counts
    }
}
