// The executor sets process-wide state (current directory, Console.Out, assembly resolution), so tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
