import WaymarkIR

/// An unambiguous byte form of bundle content for hashing: every string is length-prefixed,
/// every list counted, so no two different values write the same bytes. Much cheaper than
/// JSON-encoding for a hash, which the bundle writer and loader both do on every bundle.
struct CanonicalWriter {
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(16_384)
    }

    mutating func write(_ text: String) {
        write(text.utf8.count)
        bytes.append(contentsOf: text.utf8)
    }

    mutating func write(_ text: String?) {
        if let text {
            bytes.append(1)
            write(text)
        } else {
            bytes.append(0)
        }
    }

    mutating func write(_ number: Int) {
        var value = UInt64(bitPattern: Int64(number))
        for _ in 0..<8 {
            bytes.append(UInt8(value & 0xFF))
            value >>= 8
        }
    }

    mutating func write(_ number: Int?) {
        if let number {
            bytes.append(1)
            write(number)
        } else {
            bytes.append(0)
        }
    }

    mutating func write(_ flag: Bool) {
        bytes.append(flag ? 1 : 0)
    }

    mutating func write<T>(_ items: [T], _ each: (inout CanonicalWriter, T) -> Void) {
        write(items.count)
        for item in items { each(&self, item) }
    }

    mutating func write(_ strings: [String]) {
        write(strings) { $0.write($1) }
    }

    // MARK: Bundle content

    mutating func write(_ graph: FunctionGraph) {
        write(graph.name)
        write(graph.params)
        write(graph.entry)
        write(graph.nodes) { w, node in
            w.write(node.id)
            w.write(node.kind.rawValue)
            w.write(node.code)
            w.write(node.target)
            w.write(node.scopes) { $0.write($1) }
            w.write(node.uses)
            w.write(node.defines)
            w.write(node.returnExceptions.map { $0 ? "true" : "false" })
        }
        write(graph.edges) { w, edge in
            w.write(edge.from)
            w.write(edge.to)
            w.write(edge.kind.rawValue)
            w.write(edge.label?.description)
            w.write(edge.variable)
            w.write(edge.exceptionTypes.map { $0.joined(separator: "\u{1F}") })
            w.write(edge.scope)
        }
        write(graph.scopes) { w, scope in
            w.write(scope.id)
            w.write(scope.kind.rawValue)
            w.write(scope.parent)
            w.write(scope.label)
            w.write(scope.head)
            w.write(scope.exit)
            w.write(scope.handlers ?? []) { w, handler in
                w.write(handler.types)
                w.write(handler.name)
                w.write(handler.entry)
            }
            w.write(scope.handlers != nil)
            w.write(scope.finallyEntry)
        }
    }

    mutating func write(_ param: BundleParam) {
        write(param.name)
        write(param.kind.rawValue)
        write(param.annotation)
        write(param.defaultValue)
        write(param.hasDefault)
        write(param.injected)
    }

    mutating func write(_ types: WorkflowTypes) {
        write(types.declared) { w, type in
            w.write(type.name)
            w.write(type.kind.rawValue)
            w.write(type.fields) { w, field in
                w.write(field.name)
                w.write(field.annotation)
                w.write(field.defaultValue)
                w.write(field.defaultFactory)
                w.write(field.hasOpaqueDefault)
            }
        }
        write(types.runAnnotations.keys.sorted()) { w, name in
            w.write(name)
            w.write(types.runAnnotations[name])
        }
    }

    /// Everything in a bundle but its checksum.
    mutating func write(_ bundle: WorkflowBundle) {
        write(bundle.format)
        write(bundle.version)
        write(bundle.compiler)
        write(bundle.sources) { w, source in
            w.write(source.path)
            w.write(source.sha256)
        }
        write(bundle.searchPaths)
        write(bundle.workflows) { w, workflow in
            w.write(workflow.name)
            w.write(workflow.module)
            w.write(workflow.version)
            w.write(workflow.wrl)
            w.write(workflow.functions) { $0.write($1) }
            w.write(workflow.params) { $0.write($1) }
            w.write(workflow.returns)
            w.write(workflow.actions) { w, action in
                w.write(action.module)
                w.write(action.function)
                w.write(action.isAsync)
                w.write(action.params) { $0.write($1) }
                w.write(action.returns)
            }
            w.write(workflow.exceptions) { w, exception in
                w.write(exception.name)
                w.write(exception.bases)
            }
            w.write(workflow.types)
            w.write(workflow.sourceMap) { w, entry in
                w.write(entry.function)
                w.write(entry.node)
                w.write(entry.file)
                w.write(entry.line)
                w.write(entry.column)
                w.write(entry.text)
            }
        }
    }
}
