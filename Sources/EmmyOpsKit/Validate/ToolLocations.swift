/// Where the checkers that are not found by name on PATH alone live. The defaults are what
/// scripts/install-deps.sh and the CI image set up; the environment (EMMY_HCL2_PYTHON,
/// EMMY_TF_PLUGIN_MIRROR) or `validate`'s flags point elsewhere on another machine.
public struct ToolLocations: Sendable, Hashable {
    /// The interpreter of the virtualenv holding python-hcl2, kept apart from checkov's own
    /// hcl2: a name looked up on PATH, or a path.
    public var hcl2Python: String
    /// A Terraform provider filesystem mirror, used when it exists (`terraform init` cannot
    /// download on these machines).
    public var pluginMirror: String

    public init(hcl2Python: String = "emmy-hcl2-python", pluginMirror: String = "/opt/tf-plugins") {
        self.hcl2Python = hcl2Python
        self.pluginMirror = pluginMirror
    }

    /// The defaults, each overridden by its variable when set and not empty.
    public init(environment: [String: String]) {
        self.init()
        if let python = environment["EMMY_HCL2_PYTHON"], !python.isEmpty { hcl2Python = python }
        if let mirror = environment["EMMY_TF_PLUGIN_MIRROR"], !mirror.isEmpty { pluginMirror = mirror }
    }
}
