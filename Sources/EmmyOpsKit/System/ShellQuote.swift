/// Quoting for the one place a shell is unavoidable: OpenSSH joins the remote argv with spaces
/// and hands the result to the remote user's shell. Every remote command goes through `join`.
public enum ShellQuote {
    /// One POSIX shell word that the shell reads back as exactly `word`: wrapped in single
    /// quotes, inside which nothing is special, with each `'` written as `'\''`.
    public static func quote(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// A command line whose words are exactly `argv`.
    public static func join(_ argv: [String]) -> String {
        argv.map(quote).joined(separator: " ")
    }
}
