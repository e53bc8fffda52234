import ArgumentParser
import EmmyOpsKit
import Testing
@testable import emmyops

/// `DirectDispatch` reads the render commands' plain arguments without ArgumentParser: whatever
/// it accepts must be the request ArgumentParser makes of the same arguments, and whatever it
/// cannot be sure of (help, completion, errors) it must leave to ArgumentParser.
@Suite struct DirectDispatchTests {
    static let plain: [[String]] = [
        ["render"],
        ["render", "all"],
        ["render", "terraform"],
        ["render", "all", "--spec", "examples/emmy.yaml", "--out", "out"],
        ["render", "--out", "d", "monitoring", "--check"],
        ["render", "--spec=a b.yaml", "--out=o", "--format=json"],
        ["render", "--format", "text", "github", "--check", "--spec", "s"],
        ["render", "compose", "--out=dir=with=equals"],
        ["render", "--out", "x=y", "--format", "json"],
        ["render", "--spec", "all"],
        ["render", "--out", "monitoring", "compose"],
        ["render", "--check", "--out", "naïve dir/ü"],
        ["render-monitoring"],
        ["render-monitoring", "--out", "r2", "--check", "--format", "json"],
        ["render-monitoring", "--spec=s.yaml"],
    ]

    static let declined: [[String]] = [
        [],
        ["validate", "--tools", "off"],
        ["render", "--help"],
        ["render", "-h"],
        ["render", "help"],
        ["render", "all", "--help"],
        ["render", "--generate-completion-script", "bash"],
        ["render", "--generate-completion-script"],
        ["render", "--version"],
        ["render", "--spec"],
        ["render", "--spec", "-x"],
        ["render", "--spec", ""],
        ["render", "--out="],
        ["render", "--spec=-x"],
        ["render", "--spec", "a", "--spec", "b"],
        ["render", "--check", "--check"],
        ["render", "--check=true"],
        ["render", "all", "all"],
        ["render", "everything"],
        ["render", "ALL"],
        ["render", "--bogus"],
        ["render", "-"],
        ["render", "--", "all"],
        ["render", "--format", "yaml"],
        ["render", "--format", "JSON"],
        ["render-monitoring", "all"],
        ["render-monitoring", "--help"],
    ]

    /// The request of the command ArgumentParser parses `arguments` to.
    static func parsed(_ arguments: [String]) throws -> RenderRequest? {
        switch try EmmyOps.parseAsRoot(arguments) {
        case let render as EmmyOps.Render: render.request
        case let alias as EmmyOps.RenderMonitoring: alias.request
        default: nil
        }
    }

    @Test(arguments: plain)
    func readsWhatArgumentParserReads(_ arguments: [String]) throws {
        let direct = try #require(DirectDispatch.renderRequest(arguments), "\(arguments) is plain")
        #expect(direct == (try Self.parsed(arguments)))
    }

    @Test(arguments: declined)
    func leavesTheRestToArgumentParser(_ arguments: [String]) {
        #expect(DirectDispatch.renderRequest(arguments) == nil)
    }

    /// `main` settles `--no-color` before either parser sees the arguments.
    @Test func noColorIsSettledFirst() throws {
        let expected = try #require(try Self.parsed(["render", "all", "--out", "o"]))
        #expect(CommandLineFront.settle(["render", "--no-color", "all", "--out", "o"]) == .render(expected))
    }
}
