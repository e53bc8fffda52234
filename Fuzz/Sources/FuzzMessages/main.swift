import EmmyApp

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessages(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzChecks.messages(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
