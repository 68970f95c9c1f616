/// A class whose instances a workflow's values may be: a pydantic model, a dataclass, an enum.
/// The compiler reads these facts from the source (it never imports user code); the runner
/// builds and coerces models from them in workflow code and in `run()`'s inputs, and the
/// qualified names are the allow-list of types a tagged value may name.
public struct DeclaredType: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable {
        case pydantic
        case dataclass
        case `enum`
    }

    /// `module.Class`, as the workers import it.
    public var name: String
    public var kind: Kind
    /// Fields in declaration order, base classes' first (for an enum: its members, each with
    /// its value as `defaultValue`).
    public var fields: [DeclaredField]

    public init(name: String, kind: Kind, fields: [DeclaredField]) {
        self.name = name
        self.kind = kind
        self.fields = fields
    }
}

/// One field of a declared type.
public struct DeclaredField: Codable, Hashable, Sendable {
    public var name: String
    /// The annotation as Python text with names resolved: builtins and typing names bare
    /// (`list[int]`, `Optional[str]`, `int | None`), project classes and standard types
    /// qualified (`shop.models.Item`, `datetime.datetime`, `uuid.UUID`); `Any` when unknown.
    public var annotation: String
    /// The default as WRL expression text, when it is a constant.
    public var defaultValue: String?
    /// `default_factory`: `list`, `dict`, `set`, or a declared type's qualified name.
    public var defaultFactory: String?
    /// Whether the field has a default the compiler could not read (the runner cannot build
    /// the model without this field then).
    public var hasOpaqueDefault: Bool

    public init(name: String, annotation: String, defaultValue: String? = nil, defaultFactory: String? = nil, hasOpaqueDefault: Bool = false) {
        self.name = name
        self.annotation = annotation
        self.defaultValue = defaultValue
        self.defaultFactory = defaultFactory
        self.hasOpaqueDefault = hasOpaqueDefault
    }

    public var isRequired: Bool { defaultValue == nil && defaultFactory == nil && !hasOpaqueDefault }
}

/// The types table of one workflow: the declared types its values may have, and `run()`'s
/// parameters' annotations resolved the same way as fields' (what the runner checks and
/// coerces inputs against).
public struct WorkflowTypes: Codable, Hashable, Sendable {
    public var declared: [DeclaredType]
    /// Parameter name -> resolved annotation (parameters without one are absent).
    public var runAnnotations: [String: String]

    public init(declared: [DeclaredType] = [], runAnnotations: [String: String] = [:]) {
        self.declared = declared
        self.runAnnotations = runAnnotations
    }
}
