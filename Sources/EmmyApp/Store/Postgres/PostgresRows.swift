import Logging
import PostgresNIO

extension AsyncSequence {
    /// Every element, in order: the rows of a query, decoded.
    func array() async throws -> [Element] {
        var elements: [Element] = []
        for try await element in self { elements.append(element) }
        return elements
    }
}

extension PostgresConnection {
    /// The async `query`, under a name of its own: a call chained on `query(…)` (`.decode`)
    /// can resolve to its EventLoopFuture overload instead.
    func run(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> PostgresRowSequence {
        try await self.query(query, logger: logger, file: file, line: line)
    }
}
