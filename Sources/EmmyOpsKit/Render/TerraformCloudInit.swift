import Foundation

/// `terraform/cloud-init.yaml`: the host's first boot, and the systemd unit it installs.
/// Terraform passes the file through `templatefile()`, so the only `${…}` it may contain is the
/// deploy key's placeholder.
///
/// Written as Swift text rather than Mustache templates: rendering these two through Mustache
/// (parsing, then reflection and dynamic casts for every value) was an eighth of `render all`.
/// Values are inserted verbatim, as the spec validated them.
enum TerraformCloudInit {
    /// The unprivileged user emmyops runs as.
    static let serviceUser = "emmy"
    /// The pinned release cloud-init installs, for operators on the host (`emmyops status`);
    /// the unit runs the deployed release under `current`.
    static let binary = "/usr/local/bin/emmyops"

    static func file(_ context: TerraformContext) -> RenderedFile {
        RenderedFile(path: OutputPath.cloudInit, contents: userData(context))
    }

    /// The unit runs the release layout under `deploy.root`: `releases/<version>/` (binary and
    /// spec), `shared/` (data, secrets.env) and the `current` symlink the deploy switches.
    static func unit(_ spec: Spec) -> String {
        let (project, appName, root) = (spec.project, spec.app.name, spec.deploy.root)
        let (binary, specPath) = ("\(root)/current/emmyops", "\(root)/current/emmy.yaml")
        let (dataDir, environmentFile) = ("\(root)/shared", "\(root)/shared/secrets.env")
        // Longer than the supervisor's drain timeout, so systemd never kills a draining app.
        let stopTimeoutSeconds = (spec.supervise.drainTimeout.milliseconds + 999) / 1000 + 15
        return #"""
        # \#(GeneratedHeader.lines[0])
        # emmyops supervising \#(appName) for \#(project), as the unprivileged user \#(serviceUser).
        [Unit]
        Description=emmyops supervising \#(appName) (\#(project))
        Wants=network-online.target
        After=network-online.target
        # Runs the release `current` points at; starts once a deploy has written its spec.
        ConditionPathExists=\#(specPath)

        [Service]
        Type=simple
        User=\#(serviceUser)
        Group=\#(serviceUser)
        ExecStart=\#(binary) supervise --spec \#(specPath) --data-dir \#(dataDir)
        # SIGHUP makes the supervisor restart the app gracefully (brief downtime on this port).
        ExecReload=/bin/kill -HUP $MAINPID
        EnvironmentFile=-\#(environmentFile)
        # The supervisor restarts the app; systemd restarts the supervisor. On stop only the
        # supervisor gets SIGTERM and drains the app; whatever is left after the timeout is killed.
        Restart=on-failure
        RestartSec=5
        KillSignal=SIGTERM
        KillMode=mixed
        TimeoutStopSec=\#(stopTimeoutSeconds)
        # Every client connection holds a descriptor: the usual soft limit of 1024 ran out at about
        # a thousand idle connections. EmmyApp raises its soft limit to this and keeps its
        # connection cap 256 below it, for the database, uploads and outbound provider connections.
        LimitNOFILE=65536
        UMask=0027
        NoNewPrivileges=yes
        ProtectSystem=strict
        ReadWritePaths=\#(dataDir)
        ProtectHome=yes
        PrivateTmp=yes
        PrivateDevices=yes
        ProtectKernelTunables=yes
        ProtectKernelModules=yes
        ProtectKernelLogs=yes
        ProtectControlGroups=yes
        ProtectClock=yes
        ProtectHostname=yes
        RestrictNamespaces=yes
        RestrictRealtime=yes
        RestrictSUIDSGID=yes
        LockPersonality=yes
        MemoryDenyWriteExecute=yes
        SystemCallArchitectures=native
        RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
        CapabilityBoundingSet=
        AmbientCapabilities=

        [Install]
        WantedBy=multi-user.target
        """# + "\n"
    }

    static func userData(_ context: TerraformContext) -> String {
        let (project, deployUser, sshPort, root) = (context.spec.project, context.sshUser, context.sshPort, context.spec.deploy.root)
        let dataDir = root + "/shared"
        // The unit, indented for its `content: |` block.
        var indentedUnit = unit(context.spec).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : "      \($0)" }.joined(separator: "\n")
        if indentedUnit.hasSuffix("\n") { indentedUnit.removeLast() }
        let release = context.spec.release
        let download = release.url.flatMap { url in release.sha256.map { (version: release.version, url: quoted(url), sha256: $0) } }
        var text = #"""
        #cloud-config
        # \#(GeneratedHeader.lines[0])
        # First boot of the \#(project) host: users, SSH hardening, the pinned emmyops release and its
        # systemd unit. Terraform's templatefile() fills in the deploy user's public key.

        # No package upgrades at boot (unattended-upgrades applies Ubuntu's security updates), and no
        # third-party repositories.
        package_update: false
        package_upgrade: false
        ssh_pwauth: false
        disable_root: true

        users:
          # Runs emmyops: no password, no sudo, no login shell.
          - name: \#(serviceUser)
            system: true
            homedir: \#(dataDir)
            no_create_home: true
            shell: /usr/sbin/nologin
            lock_passwd: true
          # The operator's SSH login, with the key from var.ssh_public_key; it may only manage the unit.
          - name: \#(deployUser)
            shell: /bin/bash
            lock_passwd: true
            groups: [\#(serviceUser)]
            sudo: "ALL=(root) NOPASSWD: /usr/bin/systemctl start emmyops.service, /usr/bin/systemctl stop emmyops.service, /usr/bin/systemctl restart emmyops.service, /usr/bin/systemctl reload emmyops.service, /usr/bin/systemctl status emmyops.service"
            ssh_authorized_keys:
              - "${ssh_public_key}"

        write_files:
          - path: /etc/ssh/sshd_config.d/10-emmyops.conf
            owner: root:root
            permissions: "0644"
            content: |
              # \#(GeneratedHeader.lines[0])
              Port \#(sshPort)
              PasswordAuthentication no
              KbdInteractiveAuthentication no
              PermitRootLogin no
              AllowUsers \#(deployUser)
          - path: /etc/systemd/system/emmyops.service
            owner: root:root
            permissions: "0644"
            content: |
        \#(indentedUnit)
        """# + "\n"
        if let download {
            text += #"""
              - path: /usr/local/sbin/emmyops-install
                owner: root:root
                permissions: "0755"
                content: |
                  #!/bin/sh
                  # \#(GeneratedHeader.lines[0])
                  # Installs emmyops \#(download.version) only if its SHA-256 matches the one pinned in emmy.yaml.
                  set -eu
                  tmp="$(mktemp -d)"
                  trap 'rm -rf "$tmp"' EXIT
                  curl --fail --silent --show-error --location --proto =https --proto-redir =https --tlsv1.2 \
                    --retry 10 --retry-delay 6 --retry-all-errors --output "$tmp/emmyops" \
                    '\#(download.url)'
                  echo "\#(download.sha256)  $tmp/emmyops" | sha256sum --check --strict -
                  install -m 0755 -o root -g root "$tmp/emmyops" \#(binary)
            """# + "\n"
        }
        text += #"""

        runcmd:
          # The release layout: the deploy user writes releases/ and current; shared/ holds the data.
          - [install, -d, -o, \#(deployUser), -g, \#(serviceUser), -m, "0750", \#(root), \#(root)/releases]
          - [install, -d, -o, \#(serviceUser), -g, \#(serviceUser), -m, "0770", \#(dataDir)]
          - [systemctl, daemon-reload]
          - [systemctl, try-restart, ssh.socket, ssh.service]
        """# + "\n"
        if download != nil {
            text += #"""
              # A checksum mismatch stops here: nothing unverified is installed or started.
              - [sh, -c, "/usr/local/sbin/emmyops-install && systemctl enable --now emmyops.service"]
            """# + "\n"
        } else {
            text += #"""
              # No release.url in emmy.yaml, so no binary is installed here: `emmyops deploy` installs
              # it; the unit is enabled and starts once the binary and the spec are in place.
              - [systemctl, enable, emmyops.service]
            """# + "\n"
        }
        // templatefile() would read any other `${` or `%{` as its own syntax: escape them, then
        // put the one real placeholder back.
        return text.replacingExactly(keyPlaceholder, with: "\u{0}")
            .replacingExactly("${", with: "$${").replacingExactly("%{", with: "%%{")
            .replacingExactly("\u{0}", with: keyPlaceholder)
    }

    /// For a value inside single quotes in a shell script: close, escape and reopen any quote in it.
    private static func quoted(_ value: String) -> String {
        value.replacingExactly("'", with: "'\\''")
    }

    /// The only templatefile() interpolation in cloud-init.yaml.
    static let keyPlaceholder = "${ssh_public_key}"
}
