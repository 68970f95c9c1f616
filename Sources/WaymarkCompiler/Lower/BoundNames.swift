/// The names a block of Python statements binds: assignment and loop targets (through tuples,
/// lists and starred targets), `except ... as` names and imports, in nested blocks too, which is
/// Python's rule for the names local to a function. Lowering uses it for a function's locals;
/// the type checks, for what a branch may have rebound.
enum BoundNames {
    static func of(_ statements: [PyNode]) -> Set<String> {
        var names: Set<String> = []
        collect(statements, into: &names)
        return names
    }

    private static func collect(_ statements: [PyNode], into names: inout Set<String>) {
        for statement in statements {
            switch statement.kind {
            case .Assign:
                for target in statement.nodes(.targets) { collectTarget(target, into: &names) }
            case .AugAssign, .AnnAssign, .For, .AsyncFor:
                if let target = statement.node(.target) { collectTarget(target, into: &names) }
            case .Import, .ImportFrom:
                for alias in statement.nodes(.names) {
                    if let bound = alias.string(.asname) ?? alias.string(.name) { names.insert(bound) }
                }
            default:
                break
            }
            for handler in statement.nodes(.handlers) {
                if let bound = handler.string(.name) { names.insert(bound) }
                collect(handler.nodes(.body), into: &names)
            }
            for field in [PyField.body, .orelse, .finalbody] { collect(statement.nodes(field), into: &names) }
        }
    }

    private static func collectTarget(_ target: PyNode, into names: inout Set<String>) {
        switch target.kind {
        case .Name: if let id = target.string(.id) { names.insert(id) }
        case .Tuple, .List: for element in target.nodes(.elts) { collectTarget(element, into: &names) }
        case .Starred: if let value = target.node(.value) { collectTarget(value, into: &names) }
        default: break
        }
    }
}
