/// The toolchain's version, recorded in every bundle.
public enum WaymarkVersion {
    public static let current = "0.1.0"
}
