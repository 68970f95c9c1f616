import WaymarkIR

/// Draws workflows as Graphviz DOT: a cluster per function and per loop, branch, try and
/// gather scope; a shape per node kind; labels with the WRL and the Python source line; data
/// edges dashed, exception edges red, loop-back edges blue and bold.
public struct DotWriter {
    /// For pages: each node gets its `nodeID` as its SVG element id (so a page can colour it)
    /// and, where the source map has its line, a link to `#L<line>`.
    public var linked: Bool

    public init(linked: Bool = false) {
        self.linked = linked
    }

    public func dot(_ workflows: [BundleWorkflow]) -> String {
        let title = workflows.count == 1 ? workflows[0].name : "workflows"
        var out = "digraph \(quote(title)) {\n"
        // No newrank=true: with it Graphviz 2.43 stops with "trouble in init_rank" on a try
        // inside nested loops (Fixtures/compile/nested_loops_try.py). Edge labels are xlabels,
        // placed after layout: a `label` becomes a virtual node that takes part in ranking, and
        // on graphs with many labelled non-constraint edges (data, exception, loop-back) 2.43
        // then stopped in init_rank (half of a fuzz batch, one even without cluster ranking) or
        // spent minutes in crossing minimisation (a 560-edge graph: 240 s; with xlabels, 10 s).
        out += "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=11, compound=true];\n"
        out += "  node [fontname=\"Helvetica\", fontsize=10];\n"
        out += "  edge [fontname=\"Helvetica\", fontsize=9];\n"
        for workflow in workflows {
            let prefix = workflows.count == 1 ? "" : "\(identifier(workflow.name))_"
            if workflows.count > 1 {
                out += "  subgraph \(quote("cluster_\(prefix)workflow")) {\n"
                out += "    label=\(quote("\(workflow.name)  (version \(workflow.version.prefix(12)))"));\n"
            } else {
                out += "  label=\(quote("\(workflow.name)  (version \(workflow.version.prefix(12)))"));\n  labelloc=t;\n"
            }
            for function in workflow.functions {
                out += self.function(function, in: workflow, prefix: prefix)
            }
            out += helperCalls(workflow, prefix: prefix)
            if workflows.count > 1 { out += "  }\n" }
        }
        out += "}\n"
        return out
    }

    private func nodeID(_ prefix: String, _ function: String, _ node: Int) -> String {
        "\(prefix)\(identifier(function))_n\(node)"
    }

    /// The id of `node` of `function` in the drawing of a single workflow (and, with `linked`,
    /// of its `<g>` element in Graphviz's SVG).
    public static func nodeID(function: String, node: Int) -> String {
        DotWriter().nodeID("", function, node)
    }

    private func function(_ graph: FunctionGraph, in workflow: BundleWorkflow, prefix: String) -> String {
        let sources = Dictionary(
            workflow.sourceMap.filter { $0.function == graph.name }.map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
        var out = "  subgraph \(quote("cluster_\(prefix)fn_\(identifier(graph.name))")) {\n"
        out += "    label=\(quote("\(graph.name)(\(graph.params.joined(separator: ", ")))")); style=rounded; color=gray60;\n"

        // Nodes go in their innermost scope's cluster; scopes nest as they do in the source.
        var children: [Int?: [Int]] = [:]
        for scope in graph.scopes { children[scope.parent, default: []].append(scope.id) }
        var members: [Int?: [Int]] = [:]
        for node in graph.nodes { members[node.scopes.last, default: []].append(node.id) }

        func emit(scope: Int?, indent: String) -> String {
            var text = ""
            for id in members[scope] ?? [] {
                text += indent + nodeStatement(graph.nodes[id], in: graph, id: nodeID(prefix, graph.name, id), source: sources[id]) + "\n"
            }
            for child in children[scope] ?? [] {
                let info = graph.scopes[child]
                text += "\(indent)subgraph \(quote("cluster_\(prefix)\(identifier(graph.name))_s\(child)")) {\n"
                text += "\(indent)  label=\(quote(info.label)); \(scopeStyle(info.kind))\n"
                text += emit(scope: child, indent: indent + "  ")
                text += "\(indent)}\n"
            }
            return text
        }
        out += emit(scope: nil, indent: "    ")
        out += "  }\n"
        // Control and loop-back edges, then exception edges (derived from the scopes), then data.
        let drawn = graph.edges.filter { $0.kind != .data } + graph.exceptionEdges + graph.edges.filter { $0.kind == .data }
        for edge in drawn {
            out += "  \(nodeID(prefix, graph.name, edge.from)) -> \(nodeID(prefix, graph.name, edge.to)) [\(edgeAttributes(edge))];\n"
        }
        return out
    }

    /// A dotted edge from each helper call to the helper's graph.
    private func helperCalls(_ workflow: BundleWorkflow, prefix: String) -> String {
        var out = ""
        for graph in workflow.functions {
            for node in graph.nodes where node.kind == .helper {
                guard let statement = try? WRLParser.parseStatement(node.code), case .helper(_, let call) = statement.kind,
                    let callee = workflow.function(named: call.name)
                else { continue }
                out += "  \(nodeID(prefix, graph.name, node.id)) -> \(nodeID(prefix, callee.name, callee.entry)) "
                out += "[style=dotted, color=goldenrod, xlabel=\"calls\", constraint=false];\n"
            }
        }
        return out
    }

    private func nodeStatement(_ node: DAGNode, in graph: FunctionGraph, id: String, source: SourceMapEntry?) -> String {
        var lines: [String] = []
        switch node.kind {
        case .input:
            lines.append("\(graph.name)(\(graph.params.joined(separator: ", ")))")
        case .join:
            return "\(id) [shape=circle, label=\"\", width=0.18, style=filled, fillcolor=gray70\(linked ? ", id=\(quote(id))" : "")];"
        case .loopHead:
            lines.append(node.target.map { "for \($0) in \(node.code)" } ?? "while \(node.code)")
        case .spread:
            lines.append("spread \(node.target ?? "_") in \(node.code)")
        case .branch:
            lines.append("if \(node.code)")
        default:
            lines.append(node.code)
        }
        if let source { lines.append("L\(source.line): \(source.text)") }
        let label = lines.map { shorten($0) }.map(escape).joined(separator: "\\n")
        var links = ""
        if linked {
            links = ", id=\(quote(id))"
            if let source { links += ", URL=\(quote("#L\(source.line)")), tooltip=\(quote("line \(source.line): \(shorten(source.text))"))" }
        }
        return "\(id) [\(shape(node.kind)), label=\"\(label)\"\(links)];"
    }

    private func shape(_ kind: DAGNode.Kind) -> String {
        switch kind {
        case .input: "shape=invhouse, style=filled, fillcolor=\"#e5e7eb\""
        case .action: "shape=box, style=\"rounded,filled\", fillcolor=\"#dbeafe\""
        case .compute: "shape=box, style=filled, fillcolor=\"#f9fafb\""
        case .branch: "shape=diamond, style=filled, fillcolor=\"#fef3c7\""
        case .join: "shape=circle"
        case .loopHead: "shape=hexagon, style=filled, fillcolor=\"#ede9fe\""
        case .loopExit: "shape=octagon, style=filled, fillcolor=\"#ede9fe\""
        case .spread: "shape=trapezium, style=filled, fillcolor=\"#dcfce7\""
        case .spreadAggregate: "shape=invtrapezium, style=filled, fillcolor=\"#dcfce7\""
        case .parallel: "shape=parallelogram, style=filled, fillcolor=\"#fce7f3\""
        case .parallelAggregate: "shape=box3d, style=filled, fillcolor=\"#fce7f3\""
        case .sleep: "shape=ellipse, style=filled, fillcolor=\"#e0f2fe\""
        case .helper: "shape=component, style=filled, fillcolor=\"#fef9c3\""
        case .handler: "shape=box, style=rounded, color=red, fontcolor=red"
        case .finally: "shape=note"
        case .jump: "shape=cds, style=filled, fillcolor=\"#ede9fe\""
        case .raise: "shape=doubleoctagon, style=filled, fillcolor=\"#fee2e2\""
        case .return: "shape=house, style=filled, fillcolor=\"#d1fae5\""
        }
    }

    private func scopeStyle(_ kind: DAGScope.Kind) -> String {
        switch kind {
        case .loop: "style=dashed; color=\"#7c3aed\";"
        case .branch: "style=dotted; color=\"#b45309\";"
        case .try: "style=dashed; color=red;"
        case .handler: "style=dotted; color=red;"
        case .tryElse: "style=dotted; color=gray40;"
        case .finally: "style=dotted; color=gray40;"
        case .gather: "style=dashed; color=\"#15803d\";"
        }
    }

    private func edgeAttributes(_ edge: DAGEdge) -> String {
        switch edge.kind {
        case .control:
            return edge.label.map { "xlabel=\(quote($0.description))" } ?? ""
        case .data:
            return "style=dashed, color=gray60, fontcolor=gray45, penwidth=0.6, arrowsize=0.5, constraint=false, xlabel=\(quote(edge.variable ?? ""))"
        case .exception:
            let types = edge.exceptionTypes ?? []
            let label = edge.label == .unwind ? "unwind" : (types.isEmpty ? "any exception" : types.joined(separator: ", "))
            return "color=red, fontcolor=red, constraint=false, xlabel=\(quote(label))"
        case .loopBack:
            return "color=\"#2563eb\", fontcolor=\"#2563eb\", style=bold, constraint=false, xlabel=\(quote(edge.label?.description ?? "loop"))"
        }
    }

    private func shorten(_ text: String) -> String {
        text.count > 72 ? String(text.prefix(69)) + "..." : text
    }

    private func identifier(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    private func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    private func quote(_ text: String) -> String {
        "\"\(escape(text))\""
    }
}
