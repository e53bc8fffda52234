import EmmyApp

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzChecks.csv(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
