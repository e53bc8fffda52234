/// Renders `terraform/` for AWS from the `infrastructure:` section. (Stub: being written.)
public enum TerraformRenderer {
    public static func render(_ spec: Spec) -> [RenderedFile] { [] }
}
