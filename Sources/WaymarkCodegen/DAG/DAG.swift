/// A workflow function as a graph the runner executes: one graph for `run()` and one per helper
/// (a `helper` node calls another graph with a fresh frame, as Python does).
///
/// Node payloads are canonical WRL text (a statement, or an expression for tests), so a bundle
/// is readable as it is and the runner reads payloads with the same `WRLParser` as the tests.
public struct FunctionGraph: Codable, Hashable, Sendable {
    public var name: String
    public var params: [String]
    public var entry: Int
    public var nodes: [DAGNode]
    public var edges: [DAGEdge]
    public var scopes: [DAGScope]
    /// Every node's WRL payload parsed, by node id: filled once by `BundleLoader` (which checks
    /// them), so the runner does not parse them again. Derived from `nodes`: not written, and
    /// not part of equality.
    public internal(set) var payloads: [NodePayload]?

    enum CodingKeys: String, CodingKey {
        case name, params, entry, nodes, edges, scopes
    }

    public static func == (a: FunctionGraph, b: FunctionGraph) -> Bool {
        a.name == b.name && a.params == b.params && a.entry == b.entry && a.nodes == b.nodes && a.edges == b.edges
            && a.scopes == b.scopes
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(params)
        hasher.combine(entry)
        hasher.combine(nodes)
        hasher.combine(edges)
        hasher.combine(scopes)
    }

    public init(name: String, params: [String], entry: Int, nodes: [DAGNode], edges: [DAGEdge], scopes: [DAGScope]) {
        self.name = name
        self.params = params
        self.entry = entry
        self.nodes = nodes
        self.edges = edges
        self.scopes = scopes
    }

    public func node(_ id: Int) -> DAGNode? {
        nodes.indices.contains(id) && nodes[id].id == id ? nodes[id] : nodes.first { $0.id == id }
    }
}

public struct DAGNode: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Hashable, Sendable, CaseIterable {
        /// The function's parameters arrive here.
        case input
        case action
        /// Pure statements: assignments, `do` expressions, asserts.
        case compute
        /// `if`: `code` is the condition; edges labelled true/false.
        case branch
        /// Where the paths of a branch meet again.
        case join
        /// A loop's test: `for target in iterable` or a `while` condition. Edges: body, done.
        case loopHead
        /// Where a loop ends: after exhaustion (and its `else`) or a `break`.
        case loopExit
        /// Fan-out of one action over a collection (`*[act(x) for x in xs]`).
        case spread
        /// Collects a spread's results in source order.
        case spreadAggregate
        /// A fixed `asyncio.gather(a(), b())`, and the spreads inside one.
        case parallel
        /// Collects a gather's results in source order and assigns its target.
        case parallelAggregate
        case sleep
        /// Calls another function graph of the workflow (a helper method).
        case helper
        /// The start of an `except` clause: binds the exception to its name.
        case handler
        /// The start of a `finally` block.
        case finally
        /// `break` or `continue`: leaves through the enclosing finally blocks to the loop.
        case jump
        case raise
        case `return`
    }

    public var id: Int
    public var kind: Kind
    /// WRL text: the statement for most kinds, the condition of a branch or while loop, the
    /// iterable of a for loop or spread.
    public var code: String
    /// WRL target text bound by a for loop, spread or handler; the assigned target of a gather.
    public var target: String?
    /// Enclosing scopes, outermost first.
    public var scopes: [Int]
    /// Variables the node reads and writes (temporaries included).
    public var uses: [String]
    public var defines: [String]
    /// On a gather's aggregate: whether the gather returns its calls' exceptions as values
    /// (`return_exceptions=True`) rather than raising the first. Nil on every other node.
    public var returnExceptions: Bool?

    public init(
        id: Int, kind: Kind, code: String, target: String? = nil, scopes: [Int], uses: [String], defines: [String],
        returnExceptions: Bool? = nil
    ) {
        self.id = id
        self.kind = kind
        self.code = code
        self.target = target
        self.scopes = scopes
        self.uses = uses
        self.defines = defines
        self.returnExceptions = returnExceptions
    }

    /// Whether running the node can raise an exception (so it has exception edges in a try).
    public var canRaise: Bool {
        switch kind {
        case .action, .compute, .branch, .loopHead, .spread, .spreadAggregate, .parallelAggregate, .helper, .raise, .sleep,
            .handler, .return:
            true
        case .input, .join, .loopExit, .parallel, .finally, .jump:
            false
        }
    }
}

public struct DAGEdge: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Hashable, Sendable {
        /// Control passes from `from` to `to` (`label` names the outcome: true, false, body, done, break, ...).
        case control
        /// `to` reads `variable` as defined by `from`.
        case data
        /// An exception of one of `exceptionTypes` raised in `from` goes to `to` (a handler or
        /// finally of try scope `scope`). Empty types: any exception.
        case exception
        /// The end of a loop body (or a `continue`) back to its head.
        case loopBack
    }

    public var from: Int
    public var to: Int
    public var kind: Kind
    public var label: EdgeLabel?
    public var variable: String?
    public var exceptionTypes: [String]?
    public var scope: Int?

    public init(from: Int, to: Int, kind: Kind, label: EdgeLabel? = nil, variable: String? = nil, exceptionTypes: [String]? = nil, scope: Int? = nil) {
        self.from = from
        self.to = to
        self.kind = kind
        self.label = label
        self.variable = variable
        self.exceptionTypes = exceptionTypes
        self.scope = scope
    }
}

/// A loop, branch, try or gather region of a function graph.
public struct DAGScope: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Hashable, Sendable {
        /// `tryElse`: a try statement's `else` block. Like a handler, its exceptions are not
        /// caught by the try's own handlers, but its finally still runs.
        case loop, branch, `try`, handler, tryElse, finally, gather
    }

    public struct Handler: Codable, Hashable, Sendable {
        /// Exception class names; empty for a bare `except:`.
        public var types: [String]
        public var name: String?
        /// The handler's entry node.
        public var entry: Int

        public init(types: [String], name: String?, entry: Int) {
            self.types = types
            self.name = name
            self.entry = entry
        }
    }

    public var id: Int
    public var kind: Kind
    public var parent: Int?
    /// What the region is, for people: `for user in users`, `if x > 1`, `try`.
    public var label: String
    /// Loop: the head node. Branch: the branch node. Gather: the parallel or spread node.
    public var head: Int?
    /// Loop: the exit node. Branch: the join node. Try: the node after the whole statement.
    public var exit: Int?
    /// Try: the handlers in source order, and the finally block's entry node.
    public var handlers: [Handler]?
    public var finallyEntry: Int?

    public init(id: Int, kind: Kind, parent: Int?, label: String, head: Int? = nil, exit: Int? = nil, handlers: [Handler]? = nil, finallyEntry: Int? = nil) {
        self.id = id
        self.kind = kind
        self.parent = parent
        self.label = label
        self.head = head
        self.exit = exit
        self.handlers = handlers
        self.finallyEntry = finallyEntry
    }
}

/// The outcome an edge stands for, typed, so the runner follows `.whenTrue` out of a branch and
/// orders a gather's items by `.item(n)` rather than matching text. In bundles and drawings it
/// is the text `description` gives (the bundle format is unchanged), read back by `init(text:)`;
/// text that is none of these does not load.
public enum EdgeLabel: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Out of a branch: its condition held, or did not.
    case whenTrue, whenFalse
    /// Out of a loop head: into the body, or out of the loop.
    case body, done
    /// From a spread to the action it runs for each element.
    case each
    /// From a gather's head to its item at this position (source order).
    case item(Int)
    /// From a node to the finally block an exception passes through.
    case unwind
    /// A return, break or continue leaving (into a finally block on its way).
    case jump(Jump)
    /// That jump carrying on after the finally block it passed through.
    case after(Jump)

    /// The statements that leave a block early.
    public enum Jump: String, Sendable, CaseIterable {
        case returning = "return", breaking = "break", continuing = "continue"
    }

    public var description: String {
        switch self {
        case .whenTrue: "true"
        case .whenFalse: "false"
        case .body: "body"
        case .done: "done"
        case .each: "each"
        case .item(let index): String(index)
        case .unwind: "unwind"
        case .jump(let jump): jump.rawValue
        case .after(let jump): "after \(jump.rawValue)"
        }
    }

    public init?(text: String) {
        switch text {
        case "true": self = .whenTrue
        case "false": self = .whenFalse
        case "body": self = .body
        case "done": self = .done
        case "each": self = .each
        case "unwind": self = .unwind
        default:
            if let jump = Jump(rawValue: text) {
                self = .jump(jump)
            } else if text.hasPrefix("after "), let jump = Jump(rawValue: String(text.dropFirst("after ".count))) {
                self = .after(jump)
            } else if let index = Int(text), index >= 0, String(index) == text {
                self = .item(index)
            } else {
                return nil
            }
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let label = EdgeLabel(text: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown edge label '\(text)'"))
        }
        self = label
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
