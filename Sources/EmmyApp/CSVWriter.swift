/// Writes CSV fields, quoting only when a field needs it (RFC 4180).
public enum CSVWriter {
    public static func line(_ fields: [String]) -> String {
        fields.map(quote).joined(separator: ",") + "\r\n"
    }

    public static func quote(_ field: String) -> String {
        // A leading = + - @ makes spreadsheets evaluate the cell; prefix a quote to keep it text.
        var value = field
        if let first = value.first, "=+-@".contains(first), !(first == "+" && value.dropFirst().allSatisfy(\.isNumber)) {
            value = "'" + value
        }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
