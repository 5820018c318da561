// The runner's entry point; see Cli/CommandLine.cs for the verbs. The libtorch wrapper (CourseLib.Torch.NativeShim)
// is applied where notebooks run: to every worker process the runner starts.
return CourseLib.Notebooks.Cli.CommandLine.Run(args);
