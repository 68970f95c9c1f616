import WaymarkIR

/// The optimizer: WRL in, WRL out, one pass after another. `-O0` skips it.
///
/// Order matters: folding first makes literals that propagation spreads, which makes more to
/// fold and branches to prune; copies and dead assignments are cleaned up once the values have
/// moved; hoisting runs before fusion, which must be last because it packs statements the other
/// passes look at one by one.
public struct Optimizer: Sendable {
    struct Pass: Sendable {
        let name: String
        let run: @Sendable (Function) -> Function
    }

    static let passes: [Pass] = [
        Pass(name: "fold-constants", run: ConstantFolding.run),
        Pass(name: "propagate-constants", run: ConstantPropagation.run),
        Pass(name: "fold-constants", run: ConstantFolding.run),
        Pass(name: "remove-dead-branches", run: DeadBranches.run),
        Pass(name: "propagate-copies", run: CopyPropagation.run),
        Pass(name: "remove-dead-assignments", run: DeadAssignments.run),
        Pass(name: "hoist-loop-invariants", run: LoopInvariants.run),
        Pass(name: "fuse-compute", run: ComputeFusion.run),
    ]

    public init() {}

    /// Runs every pass on every function; in debug builds (the tests) checks the IR after each
    /// one, so a broken invariant names the pass that broke it. The compiler verifies the final
    /// program either way.
    public func optimize(_ program: WRLProgram) throws(CompilerError) -> WRLProgram {
        var result = program
        for pass in Self.passes {
            for index in result.workflows.indices {
                result.workflows[index].functions = result.workflows[index].functions.map(pass.run)
            }
            #if DEBUG
            let failures = WRLVerifier().verify(result)
            #else
            let failures: [WRLVerifier.Failure] = []
            #endif
            if !failures.isEmpty {
                throw .invalidWRL(failures.map { failure in
                    var named = failure
                    named.message = "after pass \(pass.name): \(failure.message)"
                    return named
                })
            }
        }
        return result
    }
}
