namespace CourseLib.Notebooks.Cli;

/// <summary>The verbs of the CourseLib.Notebooks program.</summary>
public static class CommandLine
{
    /// <summary>The hidden verb the runner starts its worker processes with.</summary>
    public const string WorkerVerb = "worker";

    /// <summary>The help text.</summary>
    public const string Help = """
        CourseLib.Notebooks — runs the course's .dib notebooks headlessly, as the Polyglot Notebooks C# kernel would.

        Usage:
          CourseLib.Notebooks run [<notebook.dib | folder>...] [options]
          CourseLib.Notebooks grade [<notebook.dib | folder>...] [options]
          CourseLib.Notebooks --help

        run   Executes each notebook in its own worker process, cell by cell, and prints progress and a summary.
              Folders are searched recursively for *.dib. Default: notebooks/ under the repository root (the
              folder above the current directory that holds CourseLib.sln).
              Results: one JSON file per notebook in artifacts/run/ (NotebookResult: every cell's outputs,
              status, time, and for a failure the notebook, cell, line in the cell, line in the file, message),
              and the course site in artifacts/site/ (index.html and one page per notebook; works offline).
              Exit code: 0 if every cell of every notebook succeeded, 1 if any failed, 2 for bad arguments.

        Options:
          --cell-timeout <seconds>   Stop a cell that runs longer and fail it (default 120).
          --out <folder>             Write result JSON files there instead of artifacts/run/.
          --site <folder>            Write the course site there instead of artifacts/site/.
          --nuget-cache <folder>     Where #r "nuget:" restore projects are cached (default ~/.cache/courselib-notebooks/nuget).
          -h, --help                 Show this help.

        Notebooks reference the library by its Release build, e.g. #r "../artifacts/bin/CourseLib/release/CourseLib.dll";
        build it first: dotnet build -c Release.
        """;

    /// <summary>Dispatches to a verb and returns the exit code.</summary>
    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help" || args.Skip(1).Any(a => a is "-h" or "--help"))
        {
            Console.WriteLine(Help);
            Console.WriteLine(Grading.GradeCommand.Help);
            return args.Length == 0 ? 2 : 0;
        }

        switch (args[0])
        {
            case "run":
                RunOptions options;
                try
                {
                    options = RunOptions.Parse(args[1..]);
                }
                catch (ArgumentException e)
                {
                    Console.Error.WriteLine($"error: {e.Message.Split(" (Parameter", 2)[0]}");
                    return 2;
                }

                return RunCommand.Run(options, Console.Out);
            case "grade":
                return Grading.GradeCommand.Run(args[1..], Console.Out);
            case WorkerVerb:
                // A worker started by hand (not through the runner) may lack the libtorch wrapper: restart with it.
                return CourseLib.Torch.NativeShim.RestartIfNeeded(args) ?? WorkerCommand.Run(args[1..]);
            default:
                Console.Error.WriteLine($"error: unknown command '{args[0]}' (see --help).");
                return 2;
        }
    }
}
