import EmmyOpsKit
import Foundation

/// Input: an emmy.yaml. Loading must neither crash nor hang (libFuzzer's -timeout catches a
/// hang), and must end in a spec or at least one error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpec(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let data = Data(UnsafeRawBufferPointer(start: start, count: count))
    let result = SpecLoader.load(data: data, file: "fuzz.yaml")
    if result.spec == nil, !result.diagnostics.contains(where: { $0.severity == .error }) {
        fatalError("refused without an error: \(result.diagnostics)")
    }
    return 0
}
