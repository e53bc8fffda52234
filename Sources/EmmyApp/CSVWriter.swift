/// Writes CSV fields, quoting only when a field needs it (RFC 4180).
public enum CSVWriter {
    public static func line(_ fields: [String]) -> String {
        fields.map(quote).joined(separator: ",") + "\r\n"
    }

    /// First characters that make a spreadsheet treat a cell as a formula (OWASP's list, TAB and
    /// CR included) and their fullwidth forms, which some spreadsheets normalise before evaluating.
    static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r", "\u{FF1D}", "\u{FF0B}", "\u{FF0D}", "\u{FF20}"]

    public static func quote(_ field: String) -> String {
        // A formula start makes spreadsheets evaluate the cell; prefix a quote to keep it text.
        // An E.164 number (`+` and digits) stays as it is.
        var value = field
        if let first = value.unicodeScalars.first, formulaStarts.contains(first),
           !(first == "+" && value.unicodeScalars.dropFirst().allSatisfy { ("0"..."9").contains($0) }) {
            value = "'" + value
        }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
