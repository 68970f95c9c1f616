import WaymarkIR

/// Drops `x = e` when nothing reads `x` and evaluating `e` cannot raise, and `do e` when `e`
/// cannot raise: the program does the same with fewer steps. Anything that could raise stays,
/// so no exception moves or disappears.
enum DeadAssignments {
    static func run(_ function: Function) -> Function {
        let reads = Assignments.readCount(function)
        var result = function
        result.body = Rewrite.blocks(function.body) { block in
            block.filter { statement in
                switch statement.kind {
                case .assign(.name(let name), let value):
                    return (reads[name] ?? 0) > 0 || !Purity.cannotRaise(value) || name == "_"
                case .expr(let value):
                    return !Purity.cannotRaise(value)
                default:
                    return true
                }
            }
        }
        return result
    }
}
