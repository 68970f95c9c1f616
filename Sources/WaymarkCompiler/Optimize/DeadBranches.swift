import WaymarkIR

/// Replaces an `if` whose test is a known constant by the branch that runs, and drops a
/// `while` whose test is known false (keeping its `else`, which then always runs).
enum DeadBranches {
    static func run(_ function: Function) -> Function {
        var result = function
        result.body = Rewrite.blocks(function.body, prune)
        return result
    }

    static func prune(_ block: Block) -> Block {
        var out: Block = []
        for statement in block {
            switch statement.kind {
            case .ifElse(let test, let then, let orElse):
                if let truth = ConstantFolding.truthiness(test) {
                    out += truth ? then : orElse
                } else {
                    out.append(statement)
                }
            case .whileLoop(let prelude, let condition, _, let orElse) where prelude.isEmpty && ConstantFolding.truthiness(condition) == false:
                out += orElse
            default:
                out.append(statement)
            }
        }
        return out
    }
}
