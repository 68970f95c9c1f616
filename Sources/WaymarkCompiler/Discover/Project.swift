import Foundation
import WaymarkIR

/// A module of the user's project: one parsed Python file and its top-level names.
final class PythonModule {
    /// Dotted name the runner's workers import, e.g. `shop.actions`.
    let name: String
    let file: SourceFile
    let tree: PyNode
    let isPackage: Bool
    /// Top-level names, in the order they were bound.
    var symbols: [String: ModuleSymbol] = [:]
    var classes: [String: ClassInfo] = [:]
    /// Modules this one imports with a relative import: always part of the project.
    var relativeImports: Set<String> = []

    init(name: String, file: SourceFile, tree: PyNode, isPackage: Bool) {
        self.name = name
        self.file = file
        self.tree = tree
        self.isPackage = isPackage
    }

    /// The package that relative imports in this module start from.
    var package: String {
        if isPackage { return name }
        guard let dot = name.lastIndex(of: ".") else { return "" }
        return String(name[..<dot])
    }
}

/// What a top-level name of a module is bound to.
enum ModuleSymbol {
    case action(ActionDecl)
    /// A plain function: calling it from a workflow is not allowed.
    case function(PyNode)
    case klass(ClassInfo)
    /// A module-level name bound once to a compile-time constant.
    case constant(Expr)
    /// A module-level name bound once to something else (a policy object, say).
    case value(PyNode)
    /// Bound more than once, or by a statement we do not follow.
    case variable
    /// `from module import name` (module already made absolute).
    case importedName(module: String, name: String)
    /// `import module` / `import module as alias`.
    case importedModule(String)
}

/// A name after following imports across the project.
enum ResolvedSymbol {
    case action(ActionDecl)
    case function(module: String, name: String)
    case klass(ClassInfo)
    case constant(Expr)
    case value(PythonModule, PyNode)
    case variable(module: String, name: String)
    case module(String)
    /// Something from a module outside the project (the standard library, waymark, a package).
    case external(module: String, name: String)
    /// A project module that does not bind the name.
    case missing(module: String, name: String)
}

final class ClassInfo {
    let name: String
    unowned let module: PythonModule
    let node: PyNode
    var methods: [String: PyNode] = [:]

    init(name: String, module: PythonModule, node: PyNode) {
        self.name = name
        self.module = module
        self.node = node
        for statement in node.nodes(.body) where statement.kind == .FunctionDef || statement.kind == .AsyncFunctionDef {
            if let methodName = statement.string(.name) { methods[methodName] = statement }
        }
    }

    var qualifiedName: String { "\(module.name).\(name)" }
}

/// Loads the user's modules on demand from the search paths, parsing each file once with CPython.
/// User code is never imported or executed.
final class Project {
    let searchPaths: [String]
    let bridge: PythonBridge
    private(set) var modules: [String: PythonModule] = [:]
    private var notFound: Set<String> = []
    /// `looksLikeProjectModule` by first component: asked at every call of an imported
    /// function, two `stat` calls per search path each time.
    private var projectTops: [String: Bool] = [:]
    /// Files read, by path, with their text (for diagnostics and the bundle's hashes).
    private(set) var files: [String: SourceFile] = [:]
    /// Syntax errors in imported modules, reported against the importing file.
    var diagnostics = DiagnosticEngine()
    /// Annotations parsed from their text (action signatures keep annotations as text).
    private var annotations: [String: PyNode?] = [:]

    /// The expression an annotation's text parses to, parsed once per compilation.
    func annotation(_ text: String) -> PyNode? {
        if let known = annotations[text] { return known }
        let node = (try? bridge.parse(source: text, filename: "<annotation>"))?.nodes(.body).first?.node(.value)
        annotations[text] = node
        return node
    }

    init(searchPaths: [String], bridge: PythonBridge) {
        self.searchPaths = searchPaths
        self.bridge = bridge
    }

    /// The dotted module name of a file and the search root it lives under: the file's
    /// directory, walked up while it holds an `__init__.py`.
    static func moduleName(ofFile path: String) -> (name: String, root: String) {
        var directory = Paths.components(path)
        let file = directory.popLast().map(String.init) ?? ""
        var components = [file.hasSuffix(".py") ? String(file.dropLast(3)) : file]
        while !directory.isEmpty, FileManager.default.fileExists(atPath: "/" + (directory + ["__init__.py"]).joined(separator: "/")) {
            components.insert(String(directory.removeLast()), at: 0)
        }
        if components.last == "__init__" { components.removeLast() }
        return (components.joined(separator: "."), "/" + directory.joined(separator: "/"))
    }

    /// Parses and indexes a file as the named module.
    func load(path: String, text: String, as name: String) -> Result<PythonModule, PythonSyntaxError> {
        let file = SourceFile(path: path, text: text)
        files[path] = file
        let tree: PyNode
        do {
            tree = try bridge.parse(source: text, filename: path)
        } catch {
            return .failure(error)
        }
        let module = PythonModule(name: name, file: file, tree: tree, isPackage: path.hasSuffix("__init__.py"))
        modules[name] = module
        ModuleIndexer(module: module).index()
        return .success(module)
    }

    /// The project module with this dotted name, loading it if a search path holds it.
    func module(named name: String) -> PythonModule? {
        if let module = modules[name] { return module }
        if notFound.contains(name) { return nil }
        let relative = name.split(separator: ".").joined(separator: "/")
        for root in searchPaths {
            for candidate in ["\(root)/\(relative).py", "\(root)/\(relative)/__init__.py"] {
                guard FileManager.default.fileExists(atPath: candidate),
                    let text = try? String(contentsOfFile: candidate, encoding: .utf8)
                else { continue }
                switch load(path: candidate, text: text, as: name) {
                case .success(let module):
                    return module
                case .failure(let error):
                    let range = Compiler.range(of: error, in: SourceFile(path: candidate, text: text))
                    diagnostics.emit(.syntaxError(error.message), file: candidate, range: range)
                    notFound.insert(name)
                    return nil
                }
            }
        }
        notFound.insert(name)
        return nil
    }

    /// Whether any search path holds the first component of a dotted module name, i.e. it
    /// looks like part of the project rather than an installed package.
    func looksLikeProjectModule(_ name: String) -> Bool {
        let top = String(name.split(separator: ".").first ?? "")
        if let known = projectTops[top] { return known }
        let found = searchPaths.contains { root in
            FileManager.default.fileExists(atPath: "\(root)/\(top).py") || FileManager.default.fileExists(atPath: "\(root)/\(top)")
        }
        projectTops[top] = found
        return found
    }

    /// Resolves a top-level name of `module`, following imports.
    func resolve(_ name: String, in module: PythonModule) -> ResolvedSymbol? {
        var seen: Set<String> = []
        return resolve(name, in: module, seen: &seen)
    }

    private func resolve(_ name: String, in module: PythonModule, seen: inout Set<String>) -> ResolvedSymbol? {
        guard let symbol = module.symbols[name] else { return nil }
        switch symbol {
        case .action(let decl): return .action(decl)
        case .function: return .function(module: module.name, name: name)
        case .klass(let info): return .klass(info)
        case .constant(let value): return .constant(value)
        case .value(let node): return .value(module, node)
        case .variable: return .variable(module: module.name, name: name)
        case .importedModule(let target): return .module(target)
        case .importedName(let source, let imported):
            return resolveImport(imported, from: source, seen: &seen)
        }
    }

    /// `from source import name`: a name bound in a project module, a submodule, or external.
    func resolveImport(_ name: String, from source: String) -> ResolvedSymbol {
        var seen: Set<String> = []
        return resolveImport(name, from: source, seen: &seen)
    }

    private func resolveImport(_ name: String, from source: String, seen: inout Set<String>) -> ResolvedSymbol {
        guard let target = module(named: source) else { return .external(module: source, name: name) }
        let key = "\(source).\(name)"
        if seen.contains(key) { return .missing(module: source, name: name) }  // an import cycle
        seen.insert(key)
        if let resolved = resolve(name, in: target, seen: &seen) { return resolved }
        if module(named: key) != nil { return .module(key) }
        return .missing(module: source, name: name)
    }
}
