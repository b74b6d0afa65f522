import ArgumentParser
import CNNVizRuntime
import Foundation

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "List every layer: name, op, output shape, parameters, MACs and receptive field; memory totals.",
        discussion: """
            RF is the receptive field in input pixels, jump the cumulative stride and start the centre of unit 0's \
            field (pixel i centred at i): unit u sees start + u·jump ± (RF − 1)/2, clipped to the image. One number \
            when H and W agree, H×W otherwise; "global" after global pooling, ≈ when approximate, - when non-spatial.
            """
    )

    @OptionGroup var modelOptions: ModelOptions

    @Flag(name: .long, help: "Print the layers and totals as JSON on stdout.")
    var json = false

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadSession()
            let summary = try ModelSummary.summary(for: session)
            if json {
                try printJSON(summary)
                return
            }
            print(SummaryTable(summary: summary).text)
            print("outputs: " + modelOutputs(session))
        }
    }
}
