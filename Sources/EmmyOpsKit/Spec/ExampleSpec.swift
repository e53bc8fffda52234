/// The commented spec `emmyops init` writes: valid as it stands, every section explained.
public enum ExampleSpec {
    public static let text = """
    # emmy.yaml: one file describes the SMS service, its hosts, monitoring and alerting.
    # Every key has a default; delete what you do not need. Reference: `emmyops schema`.
    version: 1
    project: sms-emmy

    app:
      name: sms-api            # also the Prometheus job and the `service` alert label
      port: 5000
      runtime: native          # native: emmyops binary under `emmyops supervise`; docker: a container
      default_region: KE       # numbers written without +country code are read as Kenyan
      provider:
        kind: log              # log (sandbox) | twilio | webhook
        # twilio: { from: "+15005550006", account_sid: "${TWILIO_ACCOUNT_SID}", auth_token: "${TWILIO_AUTH_TOKEN}" }
      # sending: { workers: 8, segments_per_second: 1, public_url: "https://sms.example.com" }
      # Secrets are named here and read from the environment at run time; never write values.
      secrets: [TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN]

    hosts:
      - { name: prod-1, address: 203.0.113.10, user: deploy, port: 22, roles: [app, monitoring] }

    monitoring:
      scrape_interval: 15s
      evaluation_interval: 15s
      # Where RUNBOOK.md is published; every alert links to its section there.
      runbook_url: https://github.com/OWNER/REPO/blob/main/monitoring/RUNBOOK.md
      prometheus: { port: 9090, retention: 15d }
      alertmanager: { port: 9093 }
      grafana: { port: 3000, admin_password: "${GRAFANA_ADMIN_PASSWORD}" }
      node_exporter: { port: 9100 }

    # All nine alerts are on with the defaults shown by `emmyops schema`; tune or disable here.
    alerts:
      app_down: { for: 30s, severity: critical }
      high_error_rate: { threshold: 5%, for: 2m }
      high_cpu: { threshold: 85%, for: 5m }

    # Objectives render multi-window, multi-burn-rate alerts (page at 14.4x and 6x, ticket at 1x).
    slo:
      availability: 99.9%
      latency: { p95: 2s }

    # `emmyops supervise` restarts the app with a doubling backoff, gives up (and says so in
    # `emmyops status`) after too many restarts in a window, and drains it on SIGTERM.
    supervise:
      backoff_initial: 500ms
      crash_budget: { restarts: 5, window: 60s }
      drain_timeout: 30s

    notify:
      receivers:
        team:
          slack: { webhook_url: "${SLACK_WEBHOOK_URL}", channel: "#ops" }
      routes:
        critical: [team]
        warning: [team]

    # emmyops' own alert receiver (`emmyops incident serve`); every alert is also sent here.
    # It acts through playbooks (defaults: `emmyops schema`), at most 3 restarts per host and
    # alert in 30m, then freezes until `emmyops incident ack`.
    incident:
      webhook: http://127.0.0.1:9095/alerts
      token_file: /etc/emmyops/incident.token

    # `emmyops backup create` snapshots the database, compresses it and encrypts it to these age
    # recipients (make a pair with `age-keygen -o identity.txt`; keep identity.txt off the hosts),
    # stores it with a manifest, and `backup verify` proves it restores. Uncomment to enable.
    # backup:
    #   target: s3://acme-emmy-backups/prod     # or file:///var/backups/emmy
    #   recipients: [age1...]
    #   keep: { last: 3, daily: 7, weekly: 4, monthly: 6 }
    #   # endpoint: http://127.0.0.1:9000       # an S3-compatible store (MinIO); with path_style: true

    """
}
