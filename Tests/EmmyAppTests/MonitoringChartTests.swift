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

    @Test func pageHasChartsAndALiveFragmentUnderTheSameCSP() async throws {
        let harness = try ServerTests.Harness()
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

    @Test(arguments: [(12.0, "12 s"), (250, "4 min 10 s"), (7500, "2 h 5 min"), (273_600, "3 d 4 h")])
    func uptimeReadsAsPeopleSayIt(seconds: Double, text: String) {
        #expect(DateText.humanDuration(seconds) == text)
    }
}
