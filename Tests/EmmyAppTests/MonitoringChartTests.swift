@testable import EmmyApp
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Testing

/// The monitoring page's charts: the app's own rolling history, drawn as SVG on the server.
@Suite struct MonitoringChartTests {
    /// A clock the test moves by hand.
    final class Clock: Sendable {
        let now = NIOLockedValueBox(Date(timeIntervalSince1970: 1_800_000_000))
        func advance(_ seconds: TimeInterval) { now.withLockedValue { $0 += seconds } }
        var function: @Sendable () -> Date { { self.now.withLockedValue { $0 } } }
    }

    /// The numbers a chart's series plots, from its `data-values`.
    static func plotted(_ svg: String, series: String) throws -> [Double?] {
        let marker = try #require(svg.range(of: "data-series=\"\(series)\" data-values=\""), "no series \(series) in \(svg)")
        return svg[marker.upperBound...].prefix { $0 != "\"" }.split(separator: ",", omittingEmptySubsequences: false).map { Double($0) }
    }

    @Test func historyPlotsWhatHappenedMinuteByMinute() throws {
        let clock = Clock()
        let history = ActivityHistory(clock: clock.function)
        // Two minutes ago: 30 sent, 2 failed, queue 40; a minute ago: 10 delivered, queue 5;
        // now: 20 attempts of which 5 failed.
        history.entered(.sent, count: 30)
        history.entered(.failed, count: 2)
        history.sampled(queueDepth: 40)
        clock.advance(60)
        history.entered(.delivered, count: 10)
        history.sampled(queueDepth: 5)
        clock.advance(60)
        for index in 0..<20 { history.attempted(success: index >= 5) }

        let hour = history.lastHour()
        #expect(hour.count == 60)
        #expect(hour.suffix(3).map(\.sent) == [30, 0, 0] && hour.suffix(3).map(\.delivered) == [0, 10, 0])
        #expect(hour.suffix(3).map(\.queueDepth) == [40, 5, nil])
        #expect(history.sendRate(minutes: 5) == 3)  // 15 successful attempts over 5 minutes
        #expect(history.errorRatio(minutes: 5) == 0.25)

        let chart = SVGChart(id: "c", title: "t", unit: "", series: [
            .init(name: "sent", style: "series-1", values: hour.map { Double($0.sent) }),
            .init(name: "queue", style: "series-2", values: hour.map { $0.queueDepth.map(Double.init) }),
        ])
        let svg = try WebTemplates().render("chart", chart.context)
        let sent = try Self.plotted(svg, series: "sent")
        #expect(sent.count == 60 && sent.suffix(3) == [30, 0, 0] && sent.dropLast(3).allSatisfy { $0 == 0 })
        let queue = try Self.plotted(svg, series: "queue")
        #expect(queue.suffix(3) == [40, 5, nil] && queue.dropLast(3).allSatisfy { $0 == nil })
        // The y axis tops at 50 (40 rounded up to 1, 2 or 5 × 10ⁿ): 40 sits at 80% of the height.
        #expect(chart.yMax == 50)
        #expect(abs(chart.y(40) - (SVGChart.top + (chart.height - SVGChart.top - SVGChart.bottom) * 0.2)) < 0.001)
        // A gap is a gap: the queue line has two points, not sixty.
        let queueLine = try #require(svg.range(of: "data-series=\"queue\""))
        let points = try #require(svg[queueLine.upperBound...].range(of: "points=\""))
        let plottedPoints = svg[points.upperBound...].prefix { $0 != "\"" }.split(separator: " ")
        #expect(plottedPoints.count == 2, "\(plottedPoints)")
    }

    /// The first minute after a start has one queue sample and one error ratio: a line of one
    /// point draws nothing, so the monitoring page of a fresh `up` showed empty charts.
    @Test func aValueWithoutNeighboursIsDrawnAsADot() throws {
        var values = [Double?](repeating: nil, count: 60)
        values[10] = 3
        values[11] = 4  // a line: no dots
        values[20] = 5  // alone between gaps
        values[59] = 7  // the current minute after a start
        let chart = SVGChart(id: "c", title: "t", unit: "", series: [.init(name: "queue depth", style: "series-1", values: values)])
        let svg = try WebTemplates().render("chart", chart.context)
        let dots = svg.split(separator: "<circle ").dropFirst().map { circle -> String in
            let cx = circle.range(of: #"cx="[^"]*""#, options: .regularExpression).map { String(circle[$0]) } ?? "?"
            let cy = circle.range(of: #"cy="[^"]*""#, options: .regularExpression).map { String(circle[$0]) } ?? "?"
            return "\(cx) \(cy)"
        }
        let expected = [(20, 5.0), (59, 7.0)].map { String(format: "cx=\"%.1f\" cy=\"%.1f\"", chart.x($0.0, count: 60), chart.y($0.1)) }
        #expect(dots == expected, "\(svg)")
        #expect(svg.contains(#"<circle class="series-1""#))
        #expect(try Self.plotted(svg, series: "queue depth").compactMap { $0 } == [3, 4, 5, 7])
    }

    @Test func pageHasChartsAndALiveFragmentUnderTheSameCSP() async throws {
        let harness = try await ServerTests.Harness()
        try await harness.app.test(.router) { client in
            try await client.execute(uri: "/monitoring", method: .get) { response in
                let html = String(buffer: response.body)
                for id in ["chart-messages", "chart-queue", "chart-errors"] { #expect(html.contains("<svg class=\"chart\" id=\"\(id)\"")) }
                #expect(html.range(of: #"id="uptime">\d+ (s|min \d+ s) \(version"#, options: .regularExpression) != nil, "uptime in words, not raw seconds")
                #expect(response.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self'") == true)
                #expect(!html.contains("<script>"), "no inline script")
            }
            try await client.execute(uri: "/monitoring/live", method: .get) { response in
                let html = String(buffer: response.body)
                #expect(response.status == .ok && html.hasPrefix("<div id=\"monitoring-live\">") && !html.contains("<html"))
                #expect(html.contains("id=\"chart-queue\""))
            }
        }
    }

    /// Stands in for Prometheus' query_range and Alertmanager's alert list: canned answers in
    /// their real formats, and a path that answers only after 4 s (twice the fetch timeout).
    static func standIn() -> Application<RouterResponder<BasicRequestContext>> {
        let router = Router()
        router.get("/api/v1/query_range") { request, _ -> Response in
            let query = request.uri.queryParameters["query"].map(String.init) ?? ""
            let start = Int(request.uri.queryParameters["start"] ?? "0") ?? 0
            // sent: 7 then 9 in the last two minutes; the error ratio is 0/0 (NaN) in one of them.
            let samples: [(Int, String)]
            if query.contains(#"status="sent""#) { samples = [(58, "7"), (59, "9")] }
            else if query.contains("emmy_queue_depth") { samples = [(0, "120"), (30, "40.5")] }
            else if query.contains("outcome") { samples = [(58, "NaN"), (59, "25")] }
            else if query.contains("histogram_quantile") { samples = [(59, "0.045")] }
            else { samples = [] }
            let values = samples.map { "[\(start + $0.0 * 60),\"\($0.1)\"]" }.joined(separator: ",")
            let result = samples.isEmpty ? "" : #"{"metric":{},"values":["# + values + "]}"
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"status":"success","data":{"resultType":"matrix","result":["# + result + "]}}")))
        }
        router.get("/api/v2/alerts") { _, _ -> Response in
            let alerts = """
            [{"labels":{"alertname":"EmmyAppDown","severity":"critical","instance":"<img src=x onerror=alert(1)>"},
              "annotations":{"summary":"<script>alert('owned')</script> is down."},
              "startsAt":"2026-12-01T07:50:01.123Z","status":{"state":"active"}},
             {"labels":{"alertname":"EmmyQueueBacklog","severity":"warning","instance":"a:1"},"annotations":{},
              "startsAt":"2026-12-01T07:40:00Z","status":{"state":"active"}}]
            """
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: alerts)))
        }
        // Far slower than the page's 2 s fetch timeout, so a page that answers well before this
        // proves the timeout cut the wait, whatever the load on the machine.
        router.get("/slow/**") { _, _ -> Response in
            try? await Task.sleep(for: .seconds(15))
            return Response(status: .ok)
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: ServerTests.Harness.quietLogger)
    }

    @Test func chartsAndAlertsComeFromPrometheusAndAlertmanagerEscaped() async throws {
        try await Self.standIn().test(.live) { standIn in
            let base = "http://127.0.0.1:\(try #require(standIn.port))"
            let harness = try await ServerTests.Harness { $0.monitoring = MonitoringBackends(prometheus: base, alertmanager: base) }
            try await harness.app.test(.router) { client in
                try await client.execute(uri: "/monitoring/live", method: .get) { response in
                    let html = String(buffer: response.body)
                    #expect(html.contains("From Prometheus at \(base)."), "\(html)")
                    let sent = try Self.plotted(html, series: "sent")
                    #expect(sent.count == 60 && sent.suffix(2) == [7, 9] && sent.dropLast(2).allSatisfy { $0 == nil }, "\(sent)")
                    let queue = try Self.plotted(html, series: "queue depth")
                    #expect(queue[0] == 120 && queue[30] == 40.5 && queue.compactMap { $0 }.count == 2)
                    #expect(try Self.plotted(html, series: "error ratio").suffix(2) == [nil, 25], "NaN is a gap, not a zero")
                    #expect(try Self.plotted(html, series: "p95 latency").last == 0.045)
                    // Alerts listed, most severe first, their text escaped.
                    let critical = try #require(html.range(of: "EmmyAppDown")), warning = try #require(html.range(of: "EmmyQueueBacklog"))
                    #expect(critical.lowerBound < warning.lowerBound)
                    #expect(!html.contains("<script>alert") && !html.contains("<img src=x"))
                    #expect(html.contains("&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt; is down.") || html.contains("&lt;script&gt;alert(&#x27;owned&#x27;)"), "\(html)")
                }
            }
        }
    }

    @Test func unreachableOrSlowBackendsFallBackWithoutHanging() async throws {
        try await Self.standIn().test(.live) { standIn in
            let slow = "http://127.0.0.1:\(try #require(standIn.port))/slow"
            let closed = try ConnectionLimitTests.freePort()
            for (prometheus, alertmanager) in [(slow, slow), ("http://127.0.0.1:\(closed)", "http://127.0.0.1:\(closed)")] {
                let harness = try await ServerTests.Harness { $0.monitoring = MonitoringBackends(prometheus: prometheus, alertmanager: alertmanager) }
                try await harness.app.test(.router) { client in
                    let started = ContinuousClock.now
                    try await client.execute(uri: "/monitoring/live", method: .get) { response in
                        let html = String(buffer: response.body)
                        #expect(response.status == .ok)
                        #expect(ContinuousClock.now - started < .seconds(10), "the page waits the fetch timeout, not the slow backend")
                        #expect(html.contains("From this app&#39;s own history") || html.contains("From this app&#x27;s own history"), "\(html)")
                        #expect(html.contains("Prometheus at \(prometheus) did not answer") && html.contains("Alertmanager at \(alertmanager) did not answer"))
                        #expect(html.contains("id=\"chart-messages\"") && !html.contains("chart-latency"))
                    }
                }
            }
        }
    }

    @Test(arguments: [(12.0, "12 s"), (250, "4 min 10 s"), (7500, "2 h 5 min"), (273_600, "3 d 4 h")])
    func uptimeReadsAsPeopleSayIt(seconds: Double, text: String) {
        #expect(DateText.humanDuration(seconds) == text)
    }
}
