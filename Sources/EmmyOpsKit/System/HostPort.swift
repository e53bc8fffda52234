/// A host and a port joined as URLs, Prometheus targets and listen addresses (nginx `listen`,
/// the exporters' `--web.listen-address`) spell them: an IPv6 literal goes in brackets, so
/// `2001:db8::1` and 5000 make `[2001:db8::1]:5000`, where the bare `2001:db8::1:5000` would
/// read as another address without a port. Lists of addresses (nginx `allow`, firewall rules)
/// take the address alone, unbracketed.
public enum HostPort {
    /// `host` as it stands before `:port`: bracketed when it is an IPv6 literal (and not yet).
    public static func host(_ host: String) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }

    /// `host:port`, with an IPv6 host in brackets.
    public static func join(_ host: String, _ port: Int) -> String {
        "\(Self.host(host)):\(port)"
    }
}
