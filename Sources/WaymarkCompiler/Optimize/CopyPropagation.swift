import WaymarkIR

/// `a = b`, where `a` is assigned only there (at the top level of the function) and `b` is never
/// rebound after it: reads of `a` become reads of `b` (the same object either way), and
/// `remove-dead-assignments` drops the copy.
enum CopyPropagation {
    static func run(_ function: Function) -> Function {
        let counts = Assignments.counts(function)
        var body = function.body
        for index in body.indices {
            guard case .assign(.name(let copy), .name(let source)) = body[index].kind, copy != source,
                counts[copy] == 1, !function.params.contains(where: { $0.name == copy }),
                !body[..<index].contains(where: { Assignments.reads(copy, in: $0) }),
                // The source must keep its value: bound at most once, and not after the copy.
                (counts[source] ?? 0) <= 1,
                !body[(index + 1)...].contains(where: { statement in
                    Rewrite.allStatements([statement]).contains { $0.kind.definedNames.contains(source) }
                })
            else { continue }
            for later in (index + 1)..<body.count {
                body[later] = Substitution.replace(copy, with: .name(source), in: body[later])
            }
        }
        var result = function
        result.body = body
        return result
    }
}
