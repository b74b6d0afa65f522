import CNNVizRuntime
import XCTest

/// The base of every test class: the engine runs with the process-wide settings that the
/// command line uses (`CNNVizEngine.configureProcess()`), so that the tests exercise the same
/// kernel splits.
open class EngineTestCase: XCTestCase {
    override open class func setUp() {
        super.setUp()
        CNNVizEngine.configureProcess()
    }
}
