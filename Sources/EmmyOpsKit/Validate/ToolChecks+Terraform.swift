extension ToolChecks {
    /// terraform fmt/validate, checkov, cloud-init and HCL parsing of `terraform/`. (Stub.)
    func terraformChecks(_ spec: Spec, files: [RenderedFile], _ session: ToolSession) {}
}
