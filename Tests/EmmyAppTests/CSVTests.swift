@testable import EmmyApp
import Testing

@Suite struct CSVTests {
    /// Feeds `bytes` in chunks of every size from 1 to 7, so state must survive any boundary.
    private func parseInChunks(_ bytes: [UInt8]) -> [[Result<CSVTable.Row, CSVTable.Problem>]] {
        (1...7).map { size in
            var table = CSVTable(maxFieldBytes: 32)
            var out: [Result<CSVTable.Row, CSVTable.Problem>] = []
            var index = 0
            while index < bytes.count {
                out += table.feed(bytes[index..<min(bytes.count, index + size)])
                index += size
            }
            return out + table.finish()
        }
    }

    private func rows(_ text: String) -> [Result<CSVTable.Row, CSVTable.Problem>] {
        let results = parseInChunks(Array(text.utf8))
        #expect(results.allSatisfy { $0 == results[0] }, "chunk size changed the result")
        return results[0]
    }

    @Test func bomCRLFQuotesAndEmbeddedNewlines() throws {
        let text = "\u{FEFF} Phone ,NAME,Company\r\n+254712345678,\"Doe, Jane\",\"Acme \"\"Ltd\"\"\"\r\n+254712345679,\"Line\r\nbreak\",X\r\n"
        let parsed = rows(text)
        #expect(parsed.count == 2)
        let first = try parsed[0].get()
        #expect(first.row == 2)
        #expect(first.values == ["phone": "+254712345678", "name": "Doe, Jane", "company": "Acme \"Ltd\""])
        let second = try parsed[1].get()
        #expect(second.values["name"] == "Line\r\nbreak")
        #expect(second.row == 3)
    }

    @Test func raggedAndBinaryRowsFailAloneWhileGoodRowsProceed() {
        var bytes = Array("phone,name\n+1,a\n+2,b,extra\n".utf8)
        bytes += [0x2B, 0x33, 0x2C, 0xFF, 0xFE, 0x0A]  // "+3,\xFF\xFE\n": Latin-1 / binary junk
        bytes += Array("+4,d\nlast-no-newline,e".utf8)
        let parsed = parseInChunks(bytes)[0]
        #expect(parsed.count == 5)
        #expect((try? parsed[0].get())?.values["phone"] == "+1")
        #expect(parsed[1] == .failure(.ragged(row: 3, expected: 2, got: 3, fields: ["+2", "b", "extra"])))
        #expect(parsed[2] == .failure(.parse(.notUTF8(row: 4))))
        #expect((try? parsed[3].get())?.row == 5)
        #expect((try? parsed[4].get())?.values == ["phone": "last-no-newline", "name": "e"])
    }

    @Test func overlongFieldIsARowProblem() {
        let parsed = rows("phone,name\n+1,\(String(repeating: "x", count: 100))\n+2,ok\n")
        #expect(parsed[0] == .failure(.parse(.fieldTooLong(row: 2, limit: 32))))
        #expect((try? parsed[1].get())?.values["name"] == "ok")
    }

    @Test func blankLinesAreSkippedAndHeadersChecked() {
        #expect(rows("phone\n\n+1\n\n").count == 1)
        #expect(rows("") == [.failure(.missingHeader)])
        #expect(rows("phone,Phone\n+1,+2\n").first == .failure(.duplicateHeader("phone")))
    }

    @Test func lonelyCROrLFBothEndRecords() throws {
        let parsed = rows("phone\r+1\r+2\n+3")
        #expect(parsed.count == 3)
        #expect(try parsed.map { try $0.get().values["phone"] } == ["+1", "+2", "+3"])
    }
}

/// Issue 18: problems that spoil the whole file, found while it streams.
@Suite struct CSVFileProblemTests {
    private func parse(_ bytes: [UInt8], maxColumns: Int = CSVParser.defaultMaxColumns) -> [Result<CSVTable.Row, CSVTable.Problem>] {
        var table = CSVTable(maxFieldBytes: 4096, maxColumns: maxColumns)
        return table.feed(bytes) + table.finish()
    }

    /// The reproduced case: an unclosed quote swallowed the next contacts into Amina's message.
    @Test func unterminatedQuoteIsFatalAndNamesTheRowItOpened() {
        let results = parse(Array("phone,name\n0712000001,\"Amina\n0712000002,Baraka\n0712000003,Chebet\n".utf8))
        #expect(results == [.failure(.parse(.unterminatedQuote(row: 2)))], "no merged row may be produced: \(results)")
        #expect(CSVTable.Problem.parse(.unterminatedQuote(row: 2)).isFatal)
        #expect(CSVTable.Problem.parse(.unterminatedQuote(row: 2)).description.contains("row 2"))
    }

    /// A header that is not UTF-8 used to be skipped, silently making row 2 the header.
    @Test func undecodableHeaderIsFatalNotShifted() {
        let bytes: [UInt8] = [0x70, 0x68, 0xF6, 0x6E, 0x65, 0x2C, 0x6E, 0x61, 0x6D, 0x65, 0x0A] + Array("+254712345678,Amina\n+254712345679,Baraka\n".utf8)
        let results = parse(bytes)
        let first = results.first
        #expect(first == .failure(.unreadableHeader(.notUTF8(row: 1))))
        if case .failure(let problem)? = first { #expect(problem.isFatal) }
    }

    /// A row wider than the limit is reported once, as soon as it crosses it, and its extra
    /// fields are never kept.
    @Test func tooManyColumnsIsFatalAndReportedWhileTheRowStreams() {
        var parser = CSVParser(maxFieldBytes: 16, maxColumns: 3)
        #expect(parser.feed(Array("a,b,c\n".utf8)).count == 1)
        let early = parser.feed(Array("1,2,3,4,5".utf8))
        #expect(early == [.failure(.tooManyColumns(row: 2, limit: 3))], "reported before the row ends")
        #expect(parser.feed(Array(",6,7\n".utf8)).isEmpty, "reported once")
        #expect(CSVParser.Problem.tooManyColumns(row: 2, limit: 3).isFatal)
    }

    /// The upload's shape scan keeps nothing, counts records exactly, and reports only what is fatal.
    @Test func shapeScannerCountsRecordsAndReportsOnlyFatalProblems() {
        var scanner = CSVParser.shapeScanner(maxColumns: 3)
        #expect(scanner.feed(Array("phone,name\n+1,\"two\nlines\"\n".utf8) + [0xFF, 0x2C, 0x0A]).isEmpty)
        #expect(scanner.finish().isEmpty)
        #expect(scanner.recordsEnded == 3)
        var open = CSVParser.shapeScanner()
        _ = open.feed(Array("phone\n\"+1\n+2\n".utf8))
        #expect(open.finish() == [.failure(.unterminatedQuote(row: 2))])
    }
}
