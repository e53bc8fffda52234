import Dispatch
import EmmyOpsKit
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `emmyops up --stack`: the plan comes from `LocalStack`, the processes from
/// `LocalStackRunner`; this prints what started where and waits for Ctrl-C.
enum UpStack {
    static func run(_ server: ServerOptions) throws {
        PrivateFiles.restrictUmask()
        let spec = try server.loadSpec()
        let (host, port, data) = server.listen(spec)
        let cwd = FileManager.default.currentDirectoryPath
        func absolute(_ path: String) -> String { URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: cwd)).standardizedFileURL.path }
        let specFile = server.spec ?? (FileManager.default.fileExists(atPath: "emmy.yaml") ? "emmy.yaml" : nil)
        let stack = LocalStack(spec: spec, dataDirectory: absolute(data), emmyops: EmmyOps.Supervise.ownExecutable(),
                               specFile: specFile.map(absolute), appHost: host, appPort: port)
        let (services, missing) = stack.plan(which: ProcessRunner.which)
        do {
            try stack.writeFiles(nodeExporter: services.contains { $0.name == "node-exporter" })
        } catch {
            throw CommandFailure.environment("cannot write the stack's files under \(stack.directory): \(error.localizedDescription)")
        }
        for absent in missing {
            Output.note("emmyops up: \(absent.name) is not installed (no `\(absent.executable)` on PATH; Debian package \(absent.package): "
                + "apt-get install \(absent.package)); the rest starts without it")
        }

        // Handled, not fatal: the children are in their own sessions, so the terminal's Ctrl-C
        // reaches this process alone, and it stops them in order. (libdispatch on Linux installs
        // its own handler for a signal source, as the supervisor relies on too.)
        let stopping = Mutex(false)
        let signalled = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                stopping.withLock { $0 = true }
                signalled.signal()
            }
            source.resume()
            sources.append(source)
        }
        defer { sources.forEach { $0.cancel() } }

        let runner = LocalStackRunner()
        // The app's monitoring page reads the charts and alerts from the stack's servers.
        let environment = ["EMMY_PROMETHEUS_URL": stack.prometheusURL, "EMMY_ALERTMANAGER_URL": stack.alertmanagerURL]
        var lines: [String] = []
        for service in services {
            do {
                _ = try runner.start(service, environment: service.name == "app" ? environment : [:])
            } catch {
                lines.append("\(service.name): cannot start: \(error)")
            }
        }
        let children = runner.children
        let readiness = Mutex([LocalStackRunner.Readiness](repeating: .timedOut(log: ""), count: children.count))
        DispatchQueue.concurrentPerform(iterations: children.count) { index in
            let outcome = runner.waitUntilReady(children[index], timeout: 60) { stopping.withLock { $0 } }
            readiness.withLock { $0[index] = outcome }
        }
        let width = (services.map(\.name.count).max() ?? 0) + 1
        for (child, outcome) in zip(children, readiness.withLock { $0 }) {
            let name = (child.service.name + ":").padding(toLength: width + 1, withPad: " ", startingAt: 0)
            switch outcome {
            case .ready: lines.append("\(name)\(child.service.url)")
            case .exited(let log): lines.append("\(name)exited at start (\(child.service.logFile)):\n\(log)")
            case .timedOut(let log): lines.append("\(name)not answering \(child.service.readyURL) yet (\(child.service.logFile))\(log.isEmpty ? "" : ":\n\(log)")")
            }
        }
        let summary = lines + [
            "data in \(stack.dataDirectory), logs in \(stack.logDirectory), receiver token in \(stack.tokenFile)",
            "Ctrl-C stops everything.",
        ]
        FileHandle.standardOutput.write(Data((summary.joined(separator: "\n") + "\n").utf8))

        signalled.wait()
        Output.note("emmyops up: stopping \(children.map(\.service.name).reversed().joined(separator: ", "))")
        let killed = runner.stop(grace: spec.supervise.drainTimeout.seconds + 5)
        if !killed.isEmpty { Output.note("emmyops up: \(killed.joined(separator: ", ")) needed SIGKILL") }
        Output.note("emmyops up: stopped")
    }
}
