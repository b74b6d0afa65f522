import ArgumentParser
import CNNVizRuntime
import Foundation

struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Run ONNX backend node tests and print a per-op table and a pass/fail/skip count.",
        discussion: HelpExamples.discussion("conformance")
    )

    @OptionGroup var threadOptions: ThreadOptions

    @Argument(help: "A directory holding node/test_*/ folders (model.onnx and test_data_set_*).")
    var directory: String

    @Option(name: .long, help: "Relative tolerance.")
    var rtol: Float = 1e-3

    @Option(name: .long, help: "Absolute tolerance.")
    var atol: Float = 1e-5

    @Option(name: .long, help: "Run only tests whose name contains this text.")
    var filter: String?

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let suite = ConformanceSuite(rtol: rtol, atol: atol)
            var tests = try suite.testDirectories(in: URL(fileURLWithPath: directory))
            if let filter { tests = tests.filter { $0.lastPathComponent.contains(filter) } }
            guard !tests.isEmpty else {
                throw CNNVizError(.invalidArgument, "no test_*/model.onnx folders\(filter.map { " matching '\($0)'" } ?? "") in \(directory)/node or \(directory)", location: directory)
            }
            var outcomes = [ConformanceSuite.Outcome]()
            for test in tests {
                let outcome = suite.run(test)
                outcomes.append(outcome)
                switch outcome.status {
                case .failed: print("FAIL \(outcome.test): \(outcome.detail)")
                case .skipped: print("SKIP \(outcome.test): \(outcome.detail)")
                case .passed: break
                }
            }
            var byOp = [String: [ConformanceSuite.Outcome.Status: Int]]()
            for outcome in outcomes {
                byOp[outcome.opTypes.first ?? "?", default: [:]][outcome.status, default: 0] += 1
            }
            print("")
            print("op                        passed  failed  skipped")
            for op in byOp.keys.sorted() {
                let counts = byOp[op]!
                print(op.padding(toLength: 24, withPad: " ", startingAt: 0)
                      + String(format: "%8d%8d%9d", counts[.passed] ?? 0, counts[.failed] ?? 0, counts[.skipped] ?? 0))
            }
            let count = { (status: ConformanceSuite.Outcome.Status) in outcomes.filter { $0.status == status }.count }
            print("\(count(.passed)) passed, \(count(.failed)) failed, \(count(.skipped)) skipped")
            if count(.failed) > 0 { throw ExitCode(1) }
        }
    }
}
