using System.Text.Json;

namespace CourseLib.Notebooks.Grading;

/// <summary>What the grader sends a worker: the exercises to grade, in order.</summary>
/// <param name="Exercises">Submissions; the worker reports them by index into this list.</param>
internal sealed record WorkerRequest(IReadOnlyList<ExerciseSubmission> Exercises);

/// <summary>A line a worker writes: "compiled" (the learner's code starts running now) or "result".</summary>
internal sealed record WorkerMessage(string Event, int Index, ExerciseGrade? Grade = null);

/// <summary>
/// The grade worker: a separate process that compiles and runs learner code, so that a runaway exercise can be
/// killed (a thread cannot be) and a crash (stack overflow) costs one exercise, not the run. Started by
/// <see cref="GradeWorkerClient"/>; it reads a <see cref="WorkerRequest"/> from a file and writes one
/// <see cref="WorkerMessage"/> per line, prefixed with <see cref="Prefix"/>, to its standard output.
/// </summary>
public static class GradeWorker
{
    /// <summary>Marks protocol lines, so anything else on standard output is never mistaken for one.</summary>
    public const string Prefix = "@@courselib-grade ";

    // Named literals: a learner's result may make an error infinite; that must not break the protocol.
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Entry point of the worker process: <c>args[0]</c> is the request file. Returns the exit code.</summary>
    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length != 1 || !File.Exists(args[0]))
        {
            Console.Error.WriteLine("usage: grade-worker <request.json>");
            return 2;
        }

        WorkerRequest request = JsonSerializer.Deserialize<WorkerRequest>(File.ReadAllText(args[0]), Json)
            ?? throw new InvalidDataException($"{args[0]} holds no grading request.");
        // Learner code may print; keep the protocol stream to ourselves and let the prints go to stderr.
        TextWriter protocol = Console.Out;
        Console.SetOut(Console.Error);
        for (int i = 0; i < request.Exercises.Count; i++)
        {
            int index = i;
            ExerciseGrade grade;
            try
            {
                grade = ExerciseCompiler.Grade(request.Exercises[i], () => Send(protocol, new WorkerMessage("compiled", index)));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Learner code is caught inside the cases; whatever escapes is the grader's own failure: report it here.
                grade = ExerciseGrade.WithoutCases(request.Exercises[i], Interactive.Exercises.ExerciseStatus.Failed, "The grader failed on this exercise: " + e, null, 0);
            }

            Send(protocol, new WorkerMessage("result", index, grade));
        }

        return 0;
    }

    private static void Send(TextWriter protocol, WorkerMessage message)
    {
        protocol.WriteLine(Prefix + JsonSerializer.Serialize(message, Json));
        protocol.Flush();
    }
}
