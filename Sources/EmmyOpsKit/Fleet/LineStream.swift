import Foundation

/// Runs a local command (the `ssh` argv of a remote one) and hands each line of its output to
/// a callback as it arrives, for commands that do not end by themselves (`logs --follow`).
public final class LineStream: @unchecked Sendable {
    private let process = Process()
    private let done = DispatchSemaphore(value: 0)
    /// Held open while the stream runs: its end tells a remote command we are gone.
    private let input = Pipe()

    /// Starts `argv`; `onLine` gets every complete stdout line, `onError` every stderr line.
    /// With `input`, the command reads it and then the end of its input (a key handed to a
    /// remote command without touching the host's disk); without, its input stays open.
    public init(_ argv: [String], input data: Data? = nil, onLine: @escaping @Sendable (Substring) -> Void,
                onError: @escaping @Sendable (Substring) -> Void) throws {
        guard let name = argv.first, let executable = name.hasPrefix("/") ? name : ProcessRunner.which(name) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: argv.first ?? ""])
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(argv.dropFirst())
        process.standardInput = input
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        if let data {
            Thread.detachNewThread { [input] in
                try? input.fileHandleForWriting.write(contentsOf: data)
                try? input.fileHandleForWriting.close()
            }
        }
        let readers = DispatchGroup()
        for (pipe, handler) in [(out, onLine), (err, onError)] {
            readers.enter()
            Thread.detachNewThread {
                Self.pump(pipe.fileHandleForReading, handler)
                readers.leave()
            }
        }
        Thread.detachNewThread { [process, done] in
            readers.wait()
            process.waitUntilExit()
            done.signal()
        }
    }

    /// Waits until the command ends (its output read to the end) and returns its exit status.
    public func wait() -> Int32 {
        done.wait()
        done.signal()
        return process.terminationStatus
    }

    /// Ends the command: closes its input (a remote command reading it ends, and ssh with it),
    /// sends SIGTERM, and SIGKILL after `grace`: a multiplexed ssh client blocked on its control
    /// socket does not act on SIGTERM, so a stuck host would keep the caller waiting.
    public func stop(grace: TimeInterval = 5) {
        try? input.fileHandleForWriting.close()
        guard process.isRunning else { return }
        process.terminate()
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + grace) { [process] in
            if process.isRunning { kill(pid, SIGKILL) }
        }
    }

    private static func pump(_ handle: FileHandle, _ handler: (Substring) -> Void) {
        var buffer = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer += chunk
            while let newline = buffer.firstIndex(of: 0x0A) {
                handler(Substring(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)))
                buffer.removeSubrange(buffer.startIndex...newline)
            }
        }
        if !buffer.isEmpty { handler(Substring(String(decoding: buffer, as: UTF8.self))) }
    }
}
