import WaymarkIR

/// Fuses each run of consecutive pure statements (assignments, `do` expressions, asserts) into
/// one `compute { ... }` step: the DAG then persists one node where the source had several.
/// Statements stay in order and in their block, so nothing crosses a try scope or an effect.
enum ComputeFusion {
    static func run(_ function: Function) -> Function {
        var result = function
        result.body = Rewrite.blocks(function.body, fuse)
        return result
    }

    static func isPure(_ statement: Statement) -> Bool {
        switch statement.kind {
        case .assign, .augAssign, .expr, .assert: true
        default: false
        }
    }

    static func fuse(_ block: Block) -> Block {
        var out: Block = []
        var run: Block = []
        func flush() {
            if run.count > 1 {
                out.append(Statement(.compute(run), at: run[0].location))
            } else {
                out += run
            }
            run = []
        }
        for statement in block {
            if isPure(statement) {
                run.append(statement)
            } else {
                flush()
                out.append(statement)
            }
        }
        flush()
        return out
    }
}
