import WaymarkEval

extension Runner {
    /// How many instances of a batch run at once when the caller does not say: `serve`'s default
    /// capacity, so a batch from the command line holds what a server would.
    public static let defaultBatchConcurrency = 500

    /// Runs one instance per input, at most `concurrency` at a time, admitted in input order;
    /// `finished` gets each one's index and outcome as it ends, on the calling task. A caller
    /// cancelled meanwhile admits no more: the inputs not started then are not run or reported.
    ///
    /// Bounded because every running instance holds its frames, its pending action and, in a
    /// fan-out, a child task per call: 10,000 instances of a 10-wide gather started at once
    /// held 100,000 waiting dispatches and about a gigabyte, and the runner spent its time
    /// paging through them. Admitting a fixed number keeps memory flat in the batch size and
    /// the workers just as busy. Less than 1 means no bound.
    ///
    /// Admitted in waves of a quarter of the bound, not one per instance that ends (so between
    /// three quarters of the bound and all of it run while inputs remain): on a
    /// durable store the instances admitted together create their rows in one group commit,
    /// as a batch started all at once does (one at a time, Postgres's CPU per action rose by
    /// half in the runner benchmark).
    public func runAll(
        _ workflow: LoadedWorkflow, inputs: [(input: JSON, arguments: [String: Value])], concurrency: Int = Runner.defaultBatchConcurrency,
        finished: (Int, RunOutcome) -> Void
    ) async {
        let width = concurrency < 1 ? inputs.count : min(concurrency, inputs.count)
        // Refilled once a wave's worth has ended.
        let wave = max(1, width / 4)
        await withTaskGroup(of: (Int, RunOutcome).self) { group in
            var next = 0
            var running = 0
            func admit() {
                while running < width && next < inputs.count && !group.isCancelled {
                    let index = next
                    let (input, arguments) = inputs[index]
                    next += 1
                    running += 1
                    group.addTask { (index, await self.run(workflow, input: input, arguments: arguments)) }
                }
            }
            admit()
            for await (index, outcome) in group {
                running -= 1
                if running <= width - wave { admit() }
                finished(index, outcome)
            }
        }
    }
}
