extension ToolChecks {
    /// zizmor, check-jsonschema, checkov and shellcheck over `github/`. (Stub.)
    func githubChecks(_ spec: Spec, files: [RenderedFile], _ session: ToolSession) {}
}
