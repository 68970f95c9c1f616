import WaymarkCodegen
import WaymarkIR

/// The bundle executor comes with the runner issue.
public enum Runner {
    public static let isAvailable = false
}
