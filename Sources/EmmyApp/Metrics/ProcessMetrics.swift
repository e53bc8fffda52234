import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The standard process metrics, read from /proc when scraped (Linux only; empty elsewhere).
enum ProcessMetrics {
    static func exposition() -> String {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return "" }
        // Fields after the command name, which may itself contain spaces: state is field 3.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard fields.count > 22, let utime = Double(fields[11]), let stime = Double(fields[12]),
              let start = Double(fields[19]), let rssPages = Double(fields[21]) else { return "" }
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        let bootTime = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("btime ") }
            .flatMap { Double($0.dropFirst(6)) } ?? 0
        let openFDs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        let values: [String: Double] = [
            "process_cpu_seconds_total": (utime + stime) / ticks,
            "process_resident_memory_bytes": rssPages * page,
            "process_start_time_seconds": bootTime + start / ticks,
            "process_open_fds": Double(openFDs),
        ]
        var out = ""
        for metric in MetricCatalogue.processMetrics {
            guard let value = values[metric.name] else { continue }
            out += "# HELP \(metric.name) \(metric.help)\n# TYPE \(metric.name) \(metric.type.rawValue)\n\(metric.name) \(value)\n"
        }
        return out
    }
}
