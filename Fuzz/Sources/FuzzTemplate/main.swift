import EmmyApp

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTemplate(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzChecks.template(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
