import AsyncHTTPClient
import Foundation
import NIOCore

/// Reading Prometheus and Alertmanager for the monitoring page, with a short timeout.
extension MonitoringBackends {
    /// Every fetch gives up after this: the page renders with what it has rather than hang.
    static let timeout = TimeAmount.seconds(2)

    struct Unreachable: Error, CustomStringConvertible {
        var description: String
    }

    /// GET `url` and the body (at most 4 MiB), or why not.
    static func get(_ url: String) async throws -> Data {
        let request = HTTPClientRequest(url: url)
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: timeout)
        } catch {
            throw Unreachable(description: "\(error)")
        }
        let body = try await response.body.collect(upTo: 4 << 20)
        guard response.status.code == 200 else { throw Unreachable(description: "HTTP \(response.status.code)") }
        return Data(buffer: body)
    }
}

/// The last hour from Prometheus, one value per minute like `ActivityHistory`, so both draw
/// the same charts. Sums over every instance: the page shows the service, not one replica.
struct PrometheusHour: Sendable, Equatable {
    var sent: [Double?]
    var delivered: [Double?]
    var failed: [Double?]
    var queueDepth: [Double?]
    /// Percent of send attempts that did not succeed.
    var errorPercent: [Double?]
    /// 95th percentile of the HTTP request duration, in seconds.
    var p95Latency: [Double?]

    static let queries: [(key: String, expr: String)] = [
        ("sent", #"sum(increase(emmy_messages_total{status="sent"}[1m]))"#),
        ("delivered", #"sum(increase(emmy_messages_total{status="delivered"}[1m]))"#),
        ("failed", #"sum(increase(emmy_messages_total{status=~"failed|undelivered"}[1m]))"#),
        ("queue", "max(emmy_queue_depth)"),
        ("errors", #"100 * sum(rate(emmy_send_attempts_total{outcome!="success"}[1m])) / sum(rate(emmy_send_attempts_total[1m]))"#),
        ("p95", "histogram_quantile(0.95, sum by (le) (rate(emmy_http_request_duration_seconds_bucket[1m])))"),
    ]

    /// Runs every query at once over the hour ending now (not at the minute's start: the
    /// newest point then shows what the last scrape saw).
    static func fetch(from base: String, now: Date = Date()) async throws -> PrometheusHour {
        let end = Int(now.timeIntervalSince1970)
        let start = end - (ActivityHistory.minutes - 1) * 60
        let series = try await withThrowingTaskGroup(of: (String, [Double?]).self) { group in
            for query in queries {
                group.addTask {
                    let expr = query.expr.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                    let data = try await MonitoringBackends.get("\(base)/api/v1/query_range?query=\(expr)&start=\(start)&end=\(end)&step=60")
                    return (query.key, try values(data, start: start, count: ActivityHistory.minutes))
                }
            }
            var all: [String: [Double?]] = [:]
            for try await (key, values) in group { all[key] = values }
            return all
        }
        func get(_ key: String) -> [Double?] { series[key] ?? Array(repeating: nil, count: ActivityHistory.minutes) }
        return PrometheusHour(sent: get("sent"), delivered: get("delivered"), failed: get("failed"), queueDepth: get("queue"),
                              errorPercent: get("errors"), p95Latency: get("p95"))
    }

    /// A query_range answer as one value per minute from `start`; a minute without a sample,
    /// or with NaN (0/0 when nothing was attempted), is a gap.
    static func values(_ json: Data, start: Int, count: Int) throws -> [Double?] {
        struct Answer: Decodable {
            struct Payload: Decodable {
                struct Series: Decodable { var values: [[Value]] }
                var result: [Series]
            }
            var status: String
            var data: Payload
        }
        /// A sample is `[1700000000.123, "42"]`: a number, then a string.
        enum Value: Decodable {
            case number(Double), text(String)
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Double.self) { self = .number(number) } else { self = .text(try container.decode(String.self)) }
            }
        }
        let answer = try JSONDecoder().decode(Answer.self, from: json)
        var out = [Double?](repeating: nil, count: count)
        for sample in answer.data.result.first?.values ?? [] {
            guard sample.count == 2, case .number(let time) = sample[0], case .text(let text) = sample[1],
                  let value = Double(text), value.isFinite else { continue }
            let index = (Int(time.rounded()) - start) / 60
            if out.indices.contains(index) { out[index] = value }
        }
        return out
    }
}

/// An alert Alertmanager holds active (not silenced or inhibited), as the page lists it. Every
/// field is text from outside (rule labels and annotations): the template escapes it.
struct ActiveAlert: Sendable, Equatable {
    var name: String
    var severity: String
    var summary: String
    var instance: String
    var since: Date?

    static func fetch(from base: String) async throws -> [ActiveAlert] {
        try parse(await MonitoringBackends.get("\(base)/api/v2/alerts?active=true&silenced=false&inhibited=false"))
    }

    /// Alertmanager writes RFC 3339 times with fractional seconds.
    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// Alertmanager's v2 list, most severe first, then by name.
    static func parse(_ json: Data) throws -> [ActiveAlert] {
        struct Alert: Decodable {
            var labels: [String: String]
            var annotations: [String: String]?
            var startsAt: String?
            var status: Status?
            struct Status: Decodable { var state: String }
        }
        let rank = ["critical": 0, "warning": 1, "info": 2]
        return try JSONDecoder().decode([Alert].self, from: json)
            .filter { ($0.status?.state ?? "active") == "active" }
            .map { alert in
                ActiveAlert(name: alert.labels["alertname"] ?? "(unnamed)", severity: alert.labels["severity"] ?? "",
                            summary: alert.annotations?["summary"] ?? alert.annotations?["description"] ?? "",
                            instance: alert.labels["instance"] ?? alert.labels["host"] ?? "",
                            since: alert.startsAt.flatMap(Self.date))
            }
            .sorted { (rank[$0.severity] ?? 3, $0.name, $0.instance) < (rank[$1.severity] ?? 3, $1.name, $1.instance) }
    }
}
