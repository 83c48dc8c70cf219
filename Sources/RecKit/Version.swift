/// The RecKit release, written into reports and model manifests.
public enum RecKitVersion {
    public static let current = "0.1.0"
}
