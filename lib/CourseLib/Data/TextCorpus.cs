using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using CourseLib.Init;

namespace CourseLib.Data;

/// <summary>
/// A text for the tiny language model, tokenized by characters, with language-model batches drawn from it.
/// <see cref="LoadCourseCorpus"/> loads the shipped corpus and checks its SHA-256; <see cref="Load"/> takes any file.
/// </summary>
public sealed class TextCorpus
{
    /// <summary>File name of the shipped corpus under datasets/.</summary>
    public const string CourseCorpusFile = "tiny-stories.txt";

    /// <summary>SHA-256 (lower-case hex) of the shipped corpus, as recorded in datasets/README.md.</summary>
    public const string CourseCorpusSha256 = "69e58c983846b26b1de8c273007d78d724af6c65aefeb78a811f1ffe175fba43";

    private TextCorpus(string text, string source)
    {
        Text = text;
        Source = source;
        Tokenizer = new CharTokenizer(text);
        Tokens = Tokenizer.Encode(text);
    }

    /// <summary>The whole text.</summary>
    public string Text { get; }

    /// <summary>Where the text came from (a path).</summary>
    public string Source { get; }

    /// <summary>The character tokenizer built from the text.</summary>
    public CharTokenizer Tokenizer { get; }

    /// <summary>The text as token ids.</summary>
    public int[] Tokens { get; }

    /// <summary>
    /// Loads a UTF-8 text file. If <paramref name="expectedSha256"/> is given, the file's SHA-256 must match it,
    /// so a lesson notices a missing or altered file instead of training on something else.
    /// </summary>
    public static TextCorpus Load(string path, string? expectedSha256 = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The text corpus '{path}' does not exist. Pass the path of a UTF-8 text file, or use LoadCourseCorpus() for the shipped one.", path);
        }

        byte[] bytes = File.ReadAllBytes(path);
        if (expectedSha256 is not null)
        {
            string actual = Sha256Hex(bytes);
            if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataException(
                    $"The corpus '{path}' has SHA-256 {actual}, but {expectedSha256} was expected: the file was altered or replaced. " +
                    "Restore it from the repository (git checkout datasets/), or regenerate it with CorpusGenerator (see datasets/README.md).");
            }
        }

        string text = new UTF8Encoding(false, true).GetString(bytes);
        if (text.Length < 2)
        {
            throw new InvalidDataException($"The corpus '{path}' holds {text.Length} characters; a language model needs at least 2.");
        }

        return new TextCorpus(text, path);
    }

    /// <summary>
    /// Loads the shipped corpus datasets/tiny-stories.txt, checking its SHA-256. The datasets folder is
    /// <paramref name="datasetsDirectory"/>, else $COURSELIB_DATASETS, else the first datasets/ found walking up from
    /// the application's directory and the current directory.
    /// </summary>
    public static TextCorpus LoadCourseCorpus(string? datasetsDirectory = null)
    {
        string dir = datasetsDirectory ?? FindDatasetsDirectory()
            ?? throw new DirectoryNotFoundException(
                $"Could not find the course's datasets/ folder (looked upward from '{AppContext.BaseDirectory}' and '{Environment.CurrentDirectory}'). " +
                "Set COURSELIB_DATASETS or pass the folder.");
        return Load(Path.Combine(dir, CourseCorpusFile), CourseCorpusSha256);
    }

    /// <summary>Lower-case hex SHA-256 of <paramref name="bytes"/>.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>
    /// A language-model batch: <paramref name="size"/> windows of <paramref name="time"/> + 1 tokens at random offsets;
    /// inputs are the first T tokens, labels the next-token targets.
    /// </summary>
    public Batch NextBatch(int size, int time, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(time, 1);
        if (time + 1 > Tokens.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(time), time, $"time + 1 = {time + 1} exceeds the corpus length {Tokens.Length}.");
        }

        var x = new int[size * time];
        var y = new int[size * time];
        for (int b = 0; b < size; b++)
        {
            int start = rng.Next(Tokens.Length - time);
            Array.Copy(Tokens, start, x, b * time, time);
            Array.Copy(Tokens, start + 1, y, b * time, time);
        }

        return Batch.ForTokens(size, time, x, y);
    }

    private static string? FindDatasetsDirectory()
    {
        string? env = Environment.GetEnvironmentVariable("COURSELIB_DATASETS");
        if (!string.IsNullOrEmpty(env))
        {
            return env;
        }

        foreach (string? start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory, Path.GetDirectoryName(Assembly.GetEntryAssembly()?.Location) })
        {
            for (string? d = start; !string.IsNullOrEmpty(d); d = Path.GetDirectoryName(d))
            {
                string candidate = Path.Combine(d, "datasets");
                if (File.Exists(Path.Combine(candidate, CourseCorpusFile)))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
