import WaymarkIR

/// Moves `x = e` out of a loop body into a temporary computed once before the loop, when `e`
/// reads nothing the loop changes, cannot raise (so running it even for zero iterations is
/// harmless) and is immutable (so one value can serve every iteration).
enum LoopInvariants {
    static func run(_ function: Function) -> Function {
        var next = nextTemporary(in: function)
        var result = function
        result.body = Rewrite.blocks(function.body) { block in
            var out: Block = []
            for statement in block {
                switch statement.kind {
                case .forLoop(let target, let iterable, let body, let orElse):
                    let changed = Set(FlowChecks.assignedNames(body) + target.boundNames)
                    let (hoisted, newBody) = hoist(body, changed: changed, next: &next)
                    out += hoisted
                    out.append(Statement(.forLoop(target, iterable, body: newBody, orElse: orElse), at: statement.location))
                case .whileLoop(let prelude, let condition, let body, let orElse):
                    let changed = Set(FlowChecks.assignedNames(body) + FlowChecks.assignedNames(prelude))
                    let (hoisted, newBody) = hoist(body, changed: changed, next: &next)
                    out += hoisted
                    out.append(Statement(.whileLoop(prelude: prelude, condition: condition, body: newBody, orElse: orElse), at: statement.location))
                default:
                    out.append(statement)
                }
            }
            return out
        }
        return result
    }

    static func hoist(_ body: Block, changed: Set<String>, next: inout Int) -> (Block, Block) {
        var hoisted: Block = []
        var newBody: Block = []
        for statement in body {
            guard case .assign(let target, let value) = statement.kind, worthHoisting(value), Purity.cannotRaise(value),
                Purity.isImmutable(value), Set(value.freeNames).isDisjoint(with: changed)
            else {
                newBody.append(statement)
                continue
            }
            let temporary = "%\(next)"
            next += 1
            hoisted.append(Statement(.assign(.name(temporary), value), at: statement.location))
            newBody.append(Statement(.assign(target, .name(temporary)), at: statement.location))
        }
        return (hoisted, newBody)
    }

    /// Literals and names cost nothing to evaluate; computations are worth moving.
    static func worthHoisting(_ value: Expr) -> Bool {
        switch value {
        case .none, .bool, .int, .float, .string, .name: false
        default: true
        }
    }

    static func nextTemporary(in function: Function) -> Int {
        var highest = -1
        for statement in Rewrite.allStatements(function.body) {
            for name in statement.kind.definedNames + statement.kind.usedNames where name.hasPrefix("%") {
                if let number = Int(name.dropFirst()) { highest = max(highest, number) }
            }
        }
        return highest + 1
    }
}
