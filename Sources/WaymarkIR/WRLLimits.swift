/// How deep WRL may nest, shared by the compiler (a diagnostic), the WRL parser (a syntax error)
/// and the bundle loader, so nothing that walks an expression recursively can overflow a stack.
///
/// CPython itself refuses more than 200 nested brackets and about 3,000 levels of any nesting
/// (`ast.parse` raises RecursionError at 2,992 chained `+`), so these limits sit above what a
/// real Python program can contain.
public enum WRLLimits {
    /// Nested sub-expressions that the parser and the evaluator enter recursively: brackets,
    /// calls, unary operators, the right side of `**`, conditional expressions.
    public static let maxNesting = 1_000
    /// Operators that deepen an expression tree in a loop: binary operators (left-deep chains),
    /// attribute, index and method suffixes. Bounds the tree's height (and the recursion of
    /// code that walks or frees it) for one statement.
    public static let maxChainedOperators = 10_000
    /// Nested blocks (if, for, while, try, ...). CPython allows 100 levels of indentation.
    public static let maxBlockNesting = 200
}
