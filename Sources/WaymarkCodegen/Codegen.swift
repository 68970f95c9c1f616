import WaymarkIR

/// WRL -> DAG, bundles and DOT come with the codegen issue; until then this target only marks
/// its place in the one-way dependency chain.
public enum Codegen {
    public static let bundleFormatVersion = 1
}
