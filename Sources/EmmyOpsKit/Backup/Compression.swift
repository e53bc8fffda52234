import CZstd

// zstd through the system libzstd: several times faster than zlib at a similar ratio on SQLite
// pages, a streaming API with bounded buffers, and `zstd -d` reads the output. Foundation has no
// zlib on Linux, and compress-nio would only give gzip through NIO buffers.

/// Compresses as bytes arrive (one zstd frame) and passes the output on.
final class ZstdCompressor: ByteSink {
    private let next: any ByteSink
    private let context: OpaquePointer
    private var output: [UInt8]

    /// Level 3 is zstd's default; one worker thread compresses while the caller encrypts.
    init(level: Int32 = 3, next: any ByteSink) throws {
        guard let context = ZSTD_createCCtx() else { throw BackupError.compression("cannot allocate a zstd context") }
        self.context = context
        self.next = next
        output = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        // Ignored (an error code, not a failure) by a libzstd built without threads.
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, 1)
        // 1 MiB jobs instead of the default 4 windows (8 MiB at level 3): the worker's buffers
        // are most of create's memory, and the ratio hardly changes.
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_jobSize, 1 << 20)
    }

    deinit { ZSTD_freeCCtx(context) }

    func write(_ bytes: ArraySlice<UInt8>) throws {
        try bytes.withUnsafeBytes { raw in
            var input = ZSTD_inBuffer(src: raw.baseAddress, size: raw.count, pos: 0)
            while input.pos < input.size {
                _ = try step(&input, ZSTD_e_continue)
            }
        }
    }

    func finish() throws {
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&input, ZSTD_e_end) != 0 {}
        try next.finish()
    }

    /// One compression call; returns what zstd still has to flush.
    private func step(_ input: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective) throws -> Int {
        let (remaining, produced) = output.withUnsafeMutableBytes { raw -> (Int, Int) in
            var out = ZSTD_outBuffer(dst: raw.baseAddress, size: raw.count, pos: 0)
            let remaining = ZSTD_compressStream2(context, &out, &input, directive)
            return (remaining, out.pos)
        }
        if ZSTD_isError(remaining) != 0 { throw BackupError.compression(String(cString: ZSTD_getErrorName(remaining))) }
        if produced > 0 { try next.write(output[..<produced]) }
        return remaining
    }
}

/// Decompresses as bytes arrive and passes the output on; a stream that stops before its frame
/// ends is an error, not a short database.
final class ZstdDecompressor: ByteSink {
    private let next: any ByteSink
    private let stream: OpaquePointer
    private var output: [UInt8]
    /// zstd's hint after the last call: 0 once a frame is complete.
    private var pending = 1

    init(next: any ByteSink) throws {
        guard let stream = ZSTD_createDStream() else { throw BackupError.compression("cannot allocate a zstd stream") }
        self.stream = stream
        self.next = next
        ZSTD_initDStream(stream)
        output = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
    }

    deinit { ZSTD_freeDStream(stream) }

    func write(_ bytes: ArraySlice<UInt8>) throws {
        try bytes.withUnsafeBytes { raw in
            var input = ZSTD_inBuffer(src: raw.baseAddress, size: raw.count, pos: 0)
            repeat {
                let (hint, produced) = output.withUnsafeMutableBytes { out -> (Int, Int) in
                    var buffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                    let hint = ZSTD_decompressStream(stream, &buffer, &input)
                    return (hint, buffer.pos)
                }
                if ZSTD_isError(hint) != 0 { throw BackupError.compression(String(cString: ZSTD_getErrorName(hint))) }
                pending = hint
                if produced > 0 { try next.write(output[..<produced]) }
                // A full output buffer may hide more output for the same input.
                if input.pos == input.size && produced < output.count { break }
            } while true
        }
    }

    func finish() throws {
        guard pending == 0 else { throw BackupError.compression("the stream ends inside a frame (truncated)") }
        try next.finish()
    }
}
