import ArgumentParser
import CNNVizRuntime
import Foundation

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "List every layer: name, op, output shape, parameters and multiply-accumulates."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Flag(name: .long, help: "Print the table as JSON on stdout.")
    var json = false

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadSession()
            let rows = try ModelSummary.rows(for: session)
            if json {
                try printJSON(["layers": rows])
                return
            }
            let nameWidth = min(48, max(10, rows.map { $0.name.count }.max() ?? 10))
            print("name".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  op                   output shape          params          MACs")
            for row in rows {
                let name = row.name.count > nameWidth ? "…" + row.name.suffix(nameWidth - 1) : row.name
                print(name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                      + row.op.padding(toLength: 20, withPad: " ", startingAt: 0) + " "
                      + "\(row.shape)".padding(toLength: 20, withPad: " ", startingAt: 0)
                      + String(format: "%10d %14d", row.parameters, row.macs))
            }
            print("total: \(rows.count) layers, \(rows.reduce(0) { $0 + $1.parameters }) parameters, \(rows.reduce(0) { $0 + $1.macs }) MACs")
        }
    }
}
