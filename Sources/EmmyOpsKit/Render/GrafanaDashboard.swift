/// The subset of Grafana's dashboard JSON model (schema 39) that emmyops renders.
///
/// Optionals left `nil` are omitted from the JSON, so Grafana applies its own defaults there.
struct Dashboard: Codable, Equatable {
    var uid: String
    var title: String
    var description: String
    var tags: [String] = ["emmyops"]
    // Provisioned from files: edits in the UI would be lost on the next render anyway.
    var editable = false
    var graphTooltip = 1
    var schemaVersion = 39
    var refresh = "30s"
    var time = TimeRange(from: "now-6h", to: "now")
    var timezone = "browser"
    var templating: Templating
    var panels: [Panel]

    struct TimeRange: Codable, Equatable {
        var from: String
        var to: String
    }

    struct Templating: Codable, Equatable {
        var list: [TemplateVariable]
    }

    /// The JSON Grafana provisions: sorted keys and a trailing newline, so renders are byte-stable.
    /// Written by `JSONText`, which writes what `JSONEncoder` writes for this `Codable` model
    /// (`GrafanaRendererTests` compares them), without its run-time cost.
    func json() -> String {
        jsonText.pretty + "\n"
    }

    var jsonText: JSONText {
        .object([("uid", .string(uid)), ("title", .string(title)), ("description", .string(description)),
                 ("tags", .array(tags.map(JSONText.string))), ("editable", .bool(editable)), ("graphTooltip", .int(graphTooltip)),
                 ("schemaVersion", .int(schemaVersion)), ("refresh", .string(refresh)),
                 ("time", .object([("from", .string(time.from)), ("to", .string(time.to))])), ("timezone", .string(timezone)),
                 ("templating", .object([("list", .array(templating.list.map(\.jsonText)))])),
                 ("panels", .array(panels.map(\.jsonText)))])
    }
}

/// A reference to a data source; panels and targets point at the `datasource` variable.
struct DataSourceRef: Codable, Equatable {
    var type: String
    var uid: String

    static let variable = DataSourceRef(type: "prometheus", uid: "${datasource}")

    var jsonText: JSONText { .object([("type", .string(type)), ("uid", .string(uid))]) }
}

/// A dashboard variable: the data source picker or a `label_values` query.
struct TemplateVariable: Codable, Equatable {
    var name: String
    var label: String
    var type: String
    var query: String
    var definition: String?
    var datasource: DataSourceRef?
    var current: Selection?
    var multi: Bool?
    var includeAll: Bool?
    var allValue: String?
    /// 1 = on dashboard load, 2 = on time range change.
    var refresh: Int
    var regex = ""
    var sort: Int?
    var hide = 0

    /// The picker for Prometheus data sources, preselecting the provisioned one.
    static func datasource(defaultUID: String) -> TemplateVariable {
        TemplateVariable(name: "datasource", label: "Data source", type: "datasource", query: "prometheus",
                         current: Selection(text: .one("Prometheus"), value: .one(defaultUID)), refresh: 1)
    }

    /// A multi-value `label_values` variable whose "All" matches any non-empty value.
    static func labelValues(_ name: String, label: String, query: String, selected: String?) -> TemplateVariable {
        let current = selected.map { Selection(text: .many([$0]), value: .many([$0])) }
            ?? Selection(text: .many(["All"]), value: .many(["$__all"]))
        return TemplateVariable(name: name, label: label, type: "query", query: query, definition: query,
                                datasource: .variable, current: current, multi: true, includeAll: true,
                                allValue: ".+", refresh: 2, sort: 1)
    }

    var jsonText: JSONText {
        .object([("name", .string(name)), ("label", .string(label)), ("type", .string(type)), ("query", .string(query)),
                 ("definition", definition.map(JSONText.string)), ("datasource", datasource?.jsonText), ("current", current?.jsonText),
                 ("multi", multi.map(JSONText.bool)), ("includeAll", includeAll.map(JSONText.bool)), ("allValue", allValue.map(JSONText.string)),
                 ("refresh", .int(refresh)), ("regex", .string(regex)), ("sort", sort.map(JSONText.int)), ("hide", .int(hide))])
    }
}

/// A variable's selected option(s): a single value, or a list when the variable is multi-value.
struct Selection: Codable, Equatable {
    var selected = true
    var text: Value
    var value: Value

    enum Value: Codable, Equatable {
        case one(String)
        case many([String])

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let list = try? container.decode([String].self) { self = .many(list) } else { self = .one(try container.decode(String.self)) }
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .one(let text): try container.encode(text)
            case .many(let list): try container.encode(list)
            }
        }

        var jsonText: JSONText {
            switch self {
            case .one(let text): .string(text)
            case .many(let list): .array(list.map(JSONText.string))
            }
        }
    }

    var jsonText: JSONText { .object([("selected", .bool(selected)), ("text", text.jsonText), ("value", value.jsonText)]) }
}

struct Panel: Codable, Equatable {
    var id: Int
    var type: String
    var title: String
    var description: String
    var datasource = DataSourceRef.variable
    var gridPos: GridPos
    var fieldConfig: FieldConfig
    var options: Options?
    var targets: [Target]

    struct Options: Codable, Equatable {
        var tooltip: Tooltip

        struct Tooltip: Codable, Equatable {
            var mode: String
            var sort: String
        }

        /// Every series under the cursor, largest first: the usual need when comparing instances.
        static let sharedTooltip = Options(tooltip: Tooltip(mode: "multi", sort: "desc"))

        var jsonText: JSONText { .object([("tooltip", .object([("mode", .string(tooltip.mode)), ("sort", .string(tooltip.sort))]))]) }
    }

    var jsonText: JSONText {
        .object([("id", .int(id)), ("type", .string(type)), ("title", .string(title)), ("description", .string(description)),
                 ("datasource", datasource.jsonText), ("gridPos", gridPos.jsonText), ("fieldConfig", fieldConfig.jsonText),
                 ("options", options?.jsonText), ("targets", .array(targets.map(\.jsonText)))])
    }
}

struct GridPos: Codable, Equatable {
    var h: Int
    var w: Int
    var x: Int
    var y: Int

    var jsonText: JSONText { .object([("h", .int(h)), ("w", .int(w)), ("x", .int(x)), ("y", .int(y))]) }
}

/// Field defaults only; Grafana fills in an empty `overrides` list when loading.
struct FieldConfig: Codable, Equatable {
    var defaults: Defaults

    struct Defaults: Codable, Equatable {
        var unit: String
        var min: Double?
        var max: Double?
    }

    init(unit: String, min: Double? = nil, max: Double? = nil) {
        defaults = Defaults(unit: unit, min: min, max: max)
    }

    var jsonText: JSONText {
        .object([("defaults", .object([("unit", .string(defaults.unit)), ("min", defaults.min.map(JSONText.double)),
                                       ("max", defaults.max.map(JSONText.double))]))])
    }
}

struct Target: Codable, Equatable {
    var refId: String
    var expr: String
    var legendFormat: String
    var datasource = DataSourceRef.variable
    var range = true

    init(_ refId: String, _ expr: String, legend: String) {
        self.refId = refId
        self.expr = expr
        self.legendFormat = legend
    }

    var jsonText: JSONText {
        .object([("refId", .string(refId)), ("expr", .string(expr)), ("legendFormat", .string(legendFormat)),
                 ("datasource", datasource.jsonText), ("range", .bool(range))])
    }
}
