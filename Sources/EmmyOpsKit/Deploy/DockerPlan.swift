import Foundation

/// The docker runtime (`app.runtime: docker`): the same release flow with `docker compose` over
/// SSH. Each release folder holds a compose file pinned to its image tag, so rollback is the
/// same plan run with the previous release's file; blue/green is two compose projects, one
/// per slot, behind the same nginx switch as the native runtime.
public enum DockerPlan {
    /// The app-only compose file of one release. The slot's loopback port comes from
    /// `EMMY_SLOT_PORT` when it starts, so an old release's file serves either slot on rollback.
    public static func compose(spec: Spec, target: DeployTarget, image: String) -> String {
        let layout = target.layout
        let document = YAMLValue.object(
            ("services", .object(
                ("app", .object(
                    ("image", .string(image)),
                    ("command", .strings(["serve", "--host", "0.0.0.0", "--port", "\(spec.app.port)", "--data-dir", "/data"])),
                    ("env_file", .strings([layout.secrets])),
                    ("ports", .strings(["127.0.0.1:${EMMY_SLOT_PORT:?set by emmyops}:\(spec.app.port)"])),
                    ("volumes", .strings(["\(layout.shared):/data"])),
                    ("restart", .string("unless-stopped")),
                    ("stop_grace_period", .string("\(max(1, spec.deploy.drainTimeout.milliseconds / 1000))s")),
                    ("healthcheck", .object(
                        ("test", .strings(["CMD", "emmyops", "probe", "http://127.0.0.1:\(spec.app.port)\(spec.gatePath)"])),
                        ("interval", .string("2s")), ("timeout", .string("2s")), ("retries", .int(3)))))))))
        return document.document(header: GeneratedHeader.lines)
    }

    /// Compose project of a slot: two projects so both releases can run during the cut-over.
    public static func project(_ spec: Spec, slot: Int) -> String {
        "\(spec.project)-\(slot == 0 ? "a" : "b")".lowercased().filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    }

    /// Steps for one host. `slot` is the idle slot (read from `run/active.json` before planning);
    /// `composeFile` and `nginxFile` are local renderings of `compose(…)` and the proxy config.
    /// With `action: "rollback"` nothing is uploaded or pulled: the release folder has it all.
    public static func steps(spec: Spec, target: DeployTarget, version: String, slot: Int, composeFile: DeployPlan.Payload,
                             specFile: DeployPlan.Payload, nginxFile: DeployPlan.Payload, action: String = "deploy") -> [DeployStep] {
        let layout = target.layout
        let partial = layout.partial(version)
        let release = layout.release(version)
        let port = target.slotPorts[slot]
        let compose = ["env", "EMMY_SLOT_PORT=\(port)", "docker", "compose", "--project-name", project(spec, slot: slot),
                       "--file", release + "/compose.yaml"]
        let old = ["env", "EMMY_SLOT_PORT=\(target.slotPorts[1 - slot])", "docker", "compose", "--project-name", project(spec, slot: 1 - slot),
                   "--file", release + "/compose.yaml"]
        let gate = Int(max(1, spec.deploy.healthTimeout.milliseconds / 1000))
        var steps: [DeployStep] = []
        if action == "deploy" {
            steps += [
                DeployStep("prepare", ["mkdir", "-p", "--", partial, layout.logs, layout.run, target.nginxPrefix + "/logs", target.nginxPrefix + "/temp"]),
                DeployPlan.upload(composeFile.path, to: partial + "/compose.yaml"),
                DeployPlan.upload(nginxFile.path, to: partial + "/nginx.conf"),
                DeployPlan.upload(specFile.path, to: partial + "/emmy.yaml"),
                DeployStep("verify", ["sha256sum", "--", partial + "/compose.yaml", partial + "/nginx.conf", partial + "/emmy.yaml"],
                           expectSHA256: [composeFile.sha256, nginxFile.sha256, specFile.sha256]),
                DeployStep("install", ["sh", "-c", #"rm -rf -- "$2" && mv -T -- "$1" "$2""#, "emmyops-install", partial, release]),
                DeployStep("pull", compose + ["pull", "--quiet"], timeout: 900),
            ]
        }
        let proxy = target.nginxPrefix
        steps += [
            // --wait: compose returns once the healthcheck (/ready) passes, or fails after the timeout.
            DeployStep("gate", compose + ["up", "--detach", "--wait", "--wait-timeout", String(gate)], timeout: Double(gate + 60)),
            // Release's nginx.conf and the new upstream, atomically; test, then reload (or start).
            DeployStep("switch", ["sh", "-c",
                                  #"cp -- "$4/nginx.conf" "$1/nginx.conf.tmp" && mv -- "$1/nginx.conf.tmp" "$1/nginx.conf" && printf 'server 127.0.0.1:%s;\n' "$2" > "$1/upstream.conf.tmp" && mv -- "$1/upstream.conf.tmp" "$1/upstream.conf" && "$3" -p "$1/" -c "$1/nginx.conf" -t -q && { "$3" -p "$1/" -c "$1/nginx.conf" -s reload 2>/dev/null || "$3" -p "$1/" -c "$1/nginx.conf"; }"#,
                                  "emmyops-switch", proxy, String(port), target.nginx, release]),
            DeployStep("current", ["sh", "-c", #"ln -sfn -- "releases/$2" "$1/current.tmp" && mv -T -- "$1/current.tmp" "$1/current" && printf '{"version":"%s","slot":%s,"port":%s}\n' "$2" "$3" "$4" > "$1/shared/run/active.json""#,
                                   "emmyops-current", layout.root, version, String(slot), String(port)]),
            // `down` acts on the project (the other slot); its containers drain within the grace period.
            DeployStep("retire", old + ["down", "--timeout", String(max(1, spec.deploy.drainTimeout.milliseconds / 1000))],
                       timeout: Double(spec.deploy.drainTimeout.milliseconds / 1000 + 60)),
        ]
        return steps
    }
}
