import WaymarkCodegen

/// The text `waymarkc inspect` prints.
public enum BundleSummary {
    public static func text(_ bundle: WorkflowBundle) -> String {
        var out = "\(bundle.format) v\(bundle.version), built by \(bundle.compiler)\n"
        out += "sources: \(bundle.sources.map { "\($0.path) (\($0.sha256.prefix(12)))" }.joined(separator: ", "))\n"
        out += "search paths: \(bundle.searchPaths.joined(separator: ", "))\n"
        for workflow in bundle.workflows {
            out += "\nworkflow \(workflow.name)  (module \(workflow.module))\n"
            out += "  version: \(workflow.version)\n"
            let params = workflow.params.map { param in param.annotation.map { "\(param.name): \($0)" } ?? param.name }
            out += "  run(\(params.joined(separator: ", ")))" + (workflow.returns.map { " -> \($0)" } ?? "") + "\n"
            for function in workflow.functions {
                var counts: [DAGNode.Kind: Int] = [:]
                for node in function.nodes { counts[node.kind, default: 0] += 1 }
                let summary = DAGNode.Kind.allCases.compactMap { kind in counts[kind].map { "\(kind.rawValue) \($0)" } }
                out += "  \(function.name): \(function.nodes.count) nodes (\(summary.joined(separator: ", ")))\n"
            }
            for action in workflow.actions {
                out += "  action \(action.module).\(action.function)(\(action.params.filter { !$0.injected }.map(\.name).joined(separator: ", ")))\n"
            }
        }
        return out
    }
}
