import EmmyOpsKit

/// What the day-2 commands make of every host's answer (`FleetQuery`): the values, in host
/// order, and each host's error printed as it is met, failing the command once all answered.
enum FleetAnswers {
    /// The values, and the failure to throw after the output: exit 2 when a host could not be
    /// reached, exit 1 when one answered with an error, nil when every host answered.
    static func split<Value>(_ answers: [FleetQuery.Answer<Value>]) -> (values: [Value], failure: CommandFailure?) {
        var values: [Value] = []
        var failure: CommandFailure?
        for answer in answers {
            switch answer.result {
            case .success(let value): values.append(value)
            case .failure(let error):
                Output.error("\(answer.target.host.name): \(error)")
                if error.isUnreachable {
                    failure = .environment(nil)
                } else if failure == nil {
                    failure = .silentProblem
                }
            }
        }
        return (values, failure)
    }
}
