import EmmyApp
import Testing

@Suite struct MetricCatalogueTests {
    @Test func namesFollowPrometheusConventions() {
        var seen: Set<String> = []
        for metric in MetricCatalogue.all {
            #expect(seen.insert(metric.name).inserted, "\(metric.name) is listed twice")
            #expect(metric.name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(metric.name) is not snake_case")
            #expect((metric.type == .counter) == metric.name.hasSuffix("_total"), "\(metric.name): only counters end in _total")
            #expect(metric.help.hasSuffix("."), "\(metric.name): help should be a sentence")
            if metric.type == .histogram {
                #expect(!metric.buckets.isEmpty && metric.buckets == metric.buckets.sorted(), "\(metric.name): buckets must ascend")
                #expect(metric.name.hasSuffix("_seconds"), "\(metric.name): histograms here measure seconds")
            }
        }
    }

    @Test func sampleExpositionHasEverySeries() {
        let text = MetricCatalogue.sampleExposition()
        for metric in MetricCatalogue.all {
            #expect(text.contains("# TYPE \(metric.name) \(metric.type.rawValue)\n"))
        }
        #expect(text.contains("emmy_database_up 1\n"))
        #expect(MetricCatalogue.sampleExposition(databaseHealthy: false).contains("emmy_database_up 0\n"))
    }
}
