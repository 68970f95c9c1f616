/// Told which graph nodes a run executes and where it ends: the dashboard replays an
/// instance's journal with one to colour the instance's DAG (done, running, failed). The
/// runtime runs without one; a nil observer costs one nil check per node.
///
/// Calls come from the executor's frames one at a time (gathers run their actions
/// concurrently, but the gather itself is one node of its frame).
public protocol ExecutionObserver: AnyObject, Sendable {
    /// `node` of `function` is about to run. Returning false stops the run (abandoned): a
    /// replay's budget, so a page never spins on a long loop.
    func entered(function: String, node: Int) -> Bool
    /// The run was suspended or abandoned while `node` of `function` ran (each frame of a
    /// helper call reports its own node, innermost first).
    func stopped(function: String, node: Int)
    /// The uncaught exception that failed the run was raised by `node` of `function`.
    func failed(function: String, node: Int)
}
