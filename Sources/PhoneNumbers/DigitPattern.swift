/// A compiled regular expression over decimal digits, for libphonenumber's metadata patterns.
///
/// The metadata uses a small regex subset: digits, `\d`, `[...]` classes with ranges,
/// `(...)` and `(?:...)` groups, `|`, the quantifiers `?` `*` `+` `{n}` `{n,}` `{n,m}` and a
/// trailing `$`. Input is a sequence of digit values `0...9`. Matching is a backtracking VM in
/// priority order (left alternative first, greedy quantifiers), so prefix matches and captures
/// come out as Python's `re.match` gives them. That is much faster than NSRegularExpression on
/// Linux and needs no locking: a compiled pattern is an immutable value.
struct DigitPattern: Sendable {
    /// Why a pattern string could not be compiled (only seen when the metadata is broken).
    struct SyntaxError: Error, CustomStringConvertible {
        var pattern: String
        var offset: Int
        var message: String
        var description: String { "pattern \(pattern) at \(offset): \(message)" }
    }

    fileprivate struct Instruction: Sendable {
        enum Op: UInt8, Sendable { case digit, split, jump, save, end, match }
        var op: Op
        /// For `.digit`: bit `d` set when digit `d` is accepted.
        var mask: UInt16 = 0
        /// `.split`: preferred branch; `.jump`: target; `.save`: capture slot.
        var a: Int32 = 0
        /// `.split`: the other branch.
        var b: Int32 = 0
    }

    private let program: [Instruction]
    /// Digits that can start a match; a cheap rejection before running the VM.
    private let firstDigits: UInt16
    /// Whether the pattern can match without consuming a digit.
    private let matchesEmpty: Bool
    /// Number of capturing groups (`(...)`).
    let groupCount: Int

    /// Compiles `source`; capturing groups record positions only when `captures` is true.
    init(_ source: String, captures: Bool = false) throws(SyntaxError) {
        var parser = PatternParser(source: Array(source.utf8), text: source)
        let node = try parser.parseAll()
        var compiler = PatternCompiler(captures: captures)
        compiler.emit(node)
        compiler.program.append(Instruction(op: .match))
        program = compiler.program
        groupCount = parser.groupCount
        (firstDigits, matchesEmpty) = DigitPattern.firstSet(of: compiler.program)
    }

    /// Whether the whole of `digits` matches (Python `re.fullmatch`).
    func matchesWhole(_ digits: UnsafeBufferPointer<UInt8>) -> Bool {
        run(digits, whole: true, captures: nil) != nil
    }

    /// The end of the match anchored at the start of `digits` (Python `re.match`), or nil.
    func prefixMatch(_ digits: UnsafeBufferPointer<UInt8>) -> Int? {
        run(digits, whole: false, captures: nil)
    }

    /// Like `prefixMatch`, filling `captures` (2 slots per group: start, end; -1 when unset).
    func prefixMatch(_ digits: UnsafeBufferPointer<UInt8>, captures: UnsafeMutableBufferPointer<Int>) -> Int? {
        captures.update(repeating: -1)
        return run(digits, whole: false, captures: captures)
    }

    private func run(
        _ input: UnsafeBufferPointer<UInt8>, whole: Bool, captures: UnsafeMutableBufferPointer<Int>?
    ) -> Int? {
        if let first = input.first {
            if firstDigits & (1 << UInt16(first)) == 0 && !matchesEmpty { return nil }
        } else if !matchesEmpty {
            return nil
        }
        return program.withUnsafeBufferPointer { code in
            withUnsafeTemporaryAllocation(of: BacktrackEntry.self, capacity: 128) { scratch in
                var stack = BacktrackStack(scratch)
                defer { stack.release() }
                return DigitPattern.execute(code, input, whole: whole, captures: captures, stack: &stack)
            }
        }
    }

    /// A guard against pathological backtracking; metadata patterns need a few hundred steps.
    private static let stepLimit = 200_000

    private static func execute(
        _ code: UnsafeBufferPointer<Instruction>, _ input: UnsafeBufferPointer<UInt8>,
        whole: Bool, captures: UnsafeMutableBufferPointer<Int>?, stack: inout BacktrackStack
    ) -> Int? {
        let count = input.count
        var steps = 0
        stack.push(BacktrackEntry(pc: 0, position: 0))
        while let entry = stack.pop() {
            if entry.pc < 0 {
                // Undo a capture recorded on the path being abandoned.
                captures?[Int(-entry.pc - 1)] = Int(entry.position)
                continue
            }
            var pc = Int(entry.pc)
            var sp = Int(entry.position)
            thread: while true {
                steps += 1
                if steps > stepLimit { return nil }
                let instruction = code[pc]
                switch instruction.op {
                case .digit:
                    guard sp < count, instruction.mask & (1 << UInt16(input[sp])) != 0 else { break thread }
                    pc += 1
                    sp += 1
                case .split:
                    stack.push(BacktrackEntry(pc: instruction.b, position: Int32(sp)))
                    pc = Int(instruction.a)
                case .jump:
                    pc = Int(instruction.a)
                case .save:
                    if let captures {
                        let slot = Int(instruction.a)
                        stack.push(BacktrackEntry(pc: -Int32(slot) - 1, position: Int32(captures[slot])))
                        captures[slot] = sp
                    }
                    pc += 1
                case .end:
                    guard sp == count else { break thread }
                    pc += 1
                case .match:
                    if whole && sp != count { break thread }
                    return sp
                }
            }
        }
        return nil
    }

    /// The digits that can be consumed first, and whether `.match` is reachable without any.
    private static func firstSet(of program: [Instruction]) -> (UInt16, Bool) {
        var seen = Set<Int>()
        var pending = [0]
        var mask: UInt16 = 0
        var empty = false
        while let pc = pending.popLast() {
            guard seen.insert(pc).inserted else { continue }
            let instruction = program[pc]
            switch instruction.op {
            case .digit: mask |= instruction.mask
            case .split: pending += [Int(instruction.a), Int(instruction.b)]
            case .jump: pending.append(Int(instruction.a))
            case .save, .end: pending.append(pc + 1)
            case .match: empty = true
            }
        }
        return (mask, empty)
    }
}

/// A pending alternative (`pc >= 0`) or a capture slot to restore (`pc = -slot - 1`).
private struct BacktrackEntry {
    var pc: Int32
    var position: Int32
}

/// A stack that starts in caller-provided scratch memory and moves to the heap if it outgrows it.
private struct BacktrackStack {
    private var base: UnsafeMutablePointer<BacktrackEntry>
    private var capacity: Int
    private var count = 0
    private var ownsStorage = false

    init(_ scratch: UnsafeMutableBufferPointer<BacktrackEntry>) {
        base = scratch.baseAddress!
        capacity = scratch.count
    }

    mutating func push(_ entry: BacktrackEntry) {
        if count == capacity {
            let grown = UnsafeMutablePointer<BacktrackEntry>.allocate(capacity: capacity * 2)
            grown.initialize(from: base, count: count)
            if ownsStorage { base.deallocate() }
            base = grown
            capacity *= 2
            ownsStorage = true
        }
        (base + count).initialize(to: entry)
        count += 1
    }

    mutating func pop() -> BacktrackEntry? {
        guard count > 0 else { return nil }
        count -= 1
        return base[count]
    }

    mutating func release() {
        if ownsStorage { base.deallocate() }
        ownsStorage = false
    }
}

// MARK: - Parsing and compiling

private indirect enum PatternNode {
    case digits(UInt16)
    case end
    case group(PatternNode, index: Int?)
    case sequence([PatternNode])
    case alternation([PatternNode])
    case repeated(PatternNode, min: Int, max: Int?)
}

private struct PatternParser {
    let source: [UInt8]
    let text: String
    var offset = 0
    var groupCount = 0

    init(source: [UInt8], text: String) {
        self.source = source
        self.text = text
    }

    private func error(_ message: String) -> DigitPattern.SyntaxError {
        DigitPattern.SyntaxError(pattern: text, offset: offset, message: message)
    }

    private var current: UInt8? { offset < source.count ? source[offset] : nil }

    mutating func parseAll() throws(DigitPattern.SyntaxError) -> PatternNode {
        let node = try parseAlternation()
        guard offset == source.count else { throw error("unexpected character") }
        return node
    }

    private mutating func parseAlternation() throws(DigitPattern.SyntaxError) -> PatternNode {
        var branches = [try parseSequence()]
        while current == UInt8(ascii: "|") {
            offset += 1
            branches.append(try parseSequence())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func parseSequence() throws(DigitPattern.SyntaxError) -> PatternNode {
        var items: [PatternNode] = []
        while let c = current, c != UInt8(ascii: "|"), c != UInt8(ascii: ")") {
            var atom = try parseAtom()
            while let quantified = try parseQuantifier(atom) { atom = quantified }
            items.append(atom)
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func parseAtom() throws(DigitPattern.SyntaxError) -> PatternNode {
        guard let c = current else { throw error("pattern ends early") }
        offset += 1
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .digits(1 << UInt16(c - UInt8(ascii: "0")))
        case UInt8(ascii: "\\"):
            guard current == UInt8(ascii: "d") else { throw error("only \\d is supported") }
            offset += 1
            return .digits(0x3FF)
        case UInt8(ascii: "["):
            return .digits(try parseClass())
        case UInt8(ascii: "$"):
            return .end
        case UInt8(ascii: "("):
            var index: Int?
            if current == UInt8(ascii: "?") {
                offset += 1
                guard current == UInt8(ascii: ":") else { throw error("only (?: groups are supported") }
                offset += 1
            } else {
                index = groupCount
                groupCount += 1
            }
            let inner = try parseAlternation()
            guard current == UInt8(ascii: ")") else { throw error("missing )") }
            offset += 1
            return .group(inner, index: index)
        default:
            offset -= 1
            throw error("unsupported character")
        }
    }

    private mutating func parseClass() throws(DigitPattern.SyntaxError) -> UInt16 {
        var mask: UInt16 = 0
        while let c = current, c != UInt8(ascii: "]") {
            offset += 1
            if c == UInt8(ascii: "\\") {
                guard current == UInt8(ascii: "d") else { throw error("only \\d is supported") }
                offset += 1
                mask |= 0x3FF
                continue
            }
            guard let low = Self.digitValue(c) else { throw error("non-digit in class") }
            var high = low
            if current == UInt8(ascii: "-"), offset + 1 < source.count, let upper = Self.digitValue(source[offset + 1]) {
                offset += 2
                high = upper
            }
            guard low <= high else { throw error("reversed range") }
            for d in low...high { mask |= 1 << UInt16(d) }
        }
        guard current == UInt8(ascii: "]") else { throw error("missing ]") }
        offset += 1
        return mask
    }

    private mutating func parseQuantifier(_ atom: PatternNode) throws(DigitPattern.SyntaxError) -> PatternNode? {
        guard let c = current else { return nil }
        switch c {
        case UInt8(ascii: "?"): offset += 1; return .repeated(atom, min: 0, max: 1)
        case UInt8(ascii: "*"): offset += 1; return .repeated(atom, min: 0, max: nil)
        case UInt8(ascii: "+"): offset += 1; return .repeated(atom, min: 1, max: nil)
        case UInt8(ascii: "{"):
            offset += 1
            let low = try parseNumber()
            var high: Int? = low
            if current == UInt8(ascii: ",") {
                offset += 1
                high = current == UInt8(ascii: "}") ? nil : try parseNumber()
            }
            guard current == UInt8(ascii: "}") else { throw error("missing }") }
            offset += 1
            if let high, high < low { throw error("reversed bounds") }
            return .repeated(atom, min: low, max: high)
        default:
            return nil
        }
    }

    private mutating func parseNumber() throws(DigitPattern.SyntaxError) -> Int {
        var value = 0
        var digits = 0
        while let c = current, let d = Self.digitValue(c), digits < 4 {
            value = value * 10 + Int(d)
            digits += 1
            offset += 1
        }
        guard digits > 0 else { throw error("expected a number") }
        return value
    }

    private static func digitValue(_ c: UInt8) -> UInt8? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) ? c - UInt8(ascii: "0") : nil
    }
}

private struct PatternCompiler {
    typealias Instruction = DigitPattern.Instruction
    let captures: Bool
    var program: [Instruction] = []

    init(captures: Bool) { self.captures = captures }

    private var here: Int32 { Int32(program.count) }

    mutating func emit(_ node: PatternNode) {
        switch node {
        case .digits(let mask):
            program.append(Instruction(op: .digit, mask: mask))
        case .end:
            program.append(Instruction(op: .end))
        case .group(let inner, let index):
            if captures, let index { program.append(Instruction(op: .save, a: Int32(2 * index))) }
            emit(inner)
            if captures, let index { program.append(Instruction(op: .save, a: Int32(2 * index + 1))) }
        case .sequence(let items):
            for item in items { emit(item) }
        case .alternation(let branches):
            var exits: [Int] = []
            for (i, branch) in branches.enumerated() {
                if i < branches.count - 1 {
                    let split = program.count
                    program.append(Instruction(op: .split, a: here + 1))
                    emit(branch)
                    exits.append(program.count)
                    program.append(Instruction(op: .jump))
                    program[split].b = here
                } else {
                    emit(branch)
                }
            }
            for exit in exits { program[exit].a = here }
        case .repeated(let inner, let min, let max):
            for _ in 0..<min { emit(inner) }
            if let max {
                // Greedy optional copies: x{2,4} = x x (x (x)?)?
                var splits: [Int] = []
                for _ in min..<max {
                    splits.append(program.count)
                    program.append(Instruction(op: .split, a: here + 1))
                    emit(inner)
                }
                for split in splits { program[split].b = here }
            } else {
                let loop = program.count
                program.append(Instruction(op: .split, a: here + 1))
                emit(inner)
                program.append(Instruction(op: .jump, a: Int32(loop)))
                program[loop].b = here
            }
        }
    }
}
