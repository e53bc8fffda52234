import Foundation

/// Runs a local program with an argv array (never a shell string) and a timeout.
public struct ProcessRunner: Sendable {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var timedOut: Bool
    }

    public init() {}

    /// Finds `name` on PATH, as a shell would.
    public static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    public func run(_ executable: String, _ arguments: [String], currentDirectory: String? = nil,
                    input: Data? = nil, inputFile: String? = nil, environment: [String: String]? = nil,
                    timeout: TimeInterval = 60) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        let inPipe = input.map { _ in Pipe() }
        if let inputFile {
            // Large inputs (an uploaded binary) stream from the file itself.
            guard let handle = FileHandle(forReadingAtPath: inputFile) else {
                throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: inputFile])
            }
            process.standardInput = handle
        } else {
            process.standardInput = inPipe ?? FileHandle.nullDevice
        }
        let outData = PipeReader(outPipe.fileHandleForReading)
        let errData = PipeReader(errPipe.fileHandleForReading)
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if let inPipe, let input {
            // Small inputs only (an exposition, a config); a pipe buffer holds 64 KiB.
            try inPipe.fileHandleForWriting.write(contentsOf: input)
            try inPipe.fileHandleForWriting.close()
        }
        var timedOut = false
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            process.terminate()
            // A child that ignores SIGTERM (or inherited a mask blocking it) gets SIGKILL.
            if exited.wait(timeout: .now() + 5) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                exited.wait()
            }
        }
        return Output(status: process.terminationStatus, stdout: outData.finish(), stderr: errData.finish(), timedOut: timedOut)
    }
}

/// Drains a pipe on a background thread so a chatty child never blocks on a full pipe.
private final class PipeReader: @unchecked Sendable {
    private let handle: FileHandle
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        self.handle = handle
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func finish() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
