import Foundation

/// A line chart as inline SVG, drawn on the server (Templates/web/chart.mustache): no script
/// library, nothing fetched, and it passes the page's CSP (presentation attributes, no inline
/// style). Each series is a polyline whose `data-values` lists the plotted numbers, so tests
/// and tools can read them. A value with no neighbour (the first minute after a start, or one
/// sample between gaps) is a line of one point, which draws nothing: it gets a dot as well.
struct SVGChart {
    struct Series {
        var name: String
        /// A CSS class from app.css (`series-1` … `series-3`) that colours the line.
        var style: String
        /// One value per x step; nil is a gap.
        var values: [Double?]
    }

    var id: String
    var title: String
    var unit: String
    var series: [Series]
    var width = 600.0
    var height = 160.0
    /// Left margin for the y labels, bottom margin for the x labels.
    static let left = 44.0, bottom = 18.0, top = 8.0

    /// The top of the y axis: the largest value rounded up to 1, 2 or 5 × 10ⁿ (1 when all are 0).
    var yMax: Double {
        let largest = series.flatMap { $0.values.compactMap { $0 } }.max() ?? 0
        guard largest > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(largest)))
        return [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= largest } ?? largest
    }

    func x(_ index: Int, count: Int) -> Double {
        Self.left + (width - Self.left - 4) * (count <= 1 ? 0 : Double(index) / Double(count - 1))
    }

    func y(_ value: Double) -> Double {
        Self.top + (height - Self.top - Self.bottom) * (1 - value / yMax)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.3f", value)
    }

    /// The values Templates/web/chart.mustache draws (escaped like every other value: the
    /// numbers and fixed labels need no raw markup).
    var context: [String: Any] {
        let plotBottom = height - Self.bottom
        return [
            "id": id, "title": title, "width": Self.number(width), "height": Self.number(height),
            "left": Self.number(Self.left), "right": Self.number(width - 4), "top": Self.number(Self.top),
            "plotBottom": Self.number(plotBottom), "yMax": Self.number(yMax), "unit": unit,
            "yMaxY": Self.number(Self.top + 8), "labelX": Self.number(Self.left - 4), "labelY": Self.number(height - 4),
            "series": series.map { line -> [String: Any] in
                let count = line.values.count
                func coordinates(_ index: Int, _ value: Double) -> (x: String, y: String) {
                    (String(format: "%.1f", x(index, count: count)), String(format: "%.1f", y(value)))
                }
                let points = line.values.enumerated().compactMap { index, value in
                    value.map { coordinates(index, $0) }.map { "\($0.x),\($0.y)" }
                }
                let dots = line.values.enumerated().compactMap { index, value -> [String: String]? in
                    guard let value, index == 0 || line.values[index - 1] == nil, index == count - 1 || line.values[index + 1] == nil else { return nil }
                    let (cx, cy) = coordinates(index, value)
                    return ["cx": cx, "cy": cy]
                }
                return ["name": line.name, "style": line.style, "points": points.joined(separator: " "), "dots": dots,
                        "values": line.values.map { $0.map(Self.number) ?? "" }.joined(separator: ",")]
            },
        ]
    }
}
