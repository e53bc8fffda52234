/// Renders `github/workflows/` from the spec. (Stub: being written.)
public enum GitHubRenderer {
    public static func render(_ spec: Spec) -> [RenderedFile] { [] }
}
