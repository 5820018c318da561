using CourseLib.Notebooks.Execution;
using CourseLib.Notebooks.Model;
using CourseLib.Notebooks.Parsing;

namespace CourseLib.Notebooks.Cli;

/// <summary>
/// The hidden <c>worker</c> verb: runs one notebook in this process, streams <see cref="WorkerEvent"/>s on
/// standard output and writes the <see cref="NotebookResult"/> JSON. The runner starts one per notebook so a
/// crash, a native fault or an endless loop costs only that notebook.
/// </summary>
public static class WorkerCommand
{
    /// <summary>Usage: <c>worker &lt;notebook.dib&gt; &lt;result.json&gt; [nuget-cache-dir]</c>.</summary>
    public static int Run(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count is < 2 or > 3)
        {
            Console.Error.WriteLine("usage: CourseLib.Notebooks worker <notebook.dib> <result.json> [nuget-cache-dir]");
            return 2;
        }

        // Events go to the real stdout; the executor redirects Console.Out to the cells' outputs.
        var events = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        NotebookDocument document = DibParser.ParseFile(args[0]);
        var restorer = new NuGetRestorer(args.Count == 3 ? args[2] : NuGetRestorer.DefaultCacheDirectory);
        NotebookResult result = new NotebookExecutor(restorer).Run(document, new EventWriter(events));
        ResultJson.Write(result, args[1]);
        return 0;
    }

    private sealed class EventWriter(TextWriter writer) : INotebookProgress
    {
        public void CellStarted(int number, int total) => writer.WriteLine(new WorkerEvent("started", number, total).ToLine());

        public void CellFinished(CellResult result, int total) => writer.WriteLine(new WorkerEvent("finished", result.Number, total, result).ToLine());
    }
}
