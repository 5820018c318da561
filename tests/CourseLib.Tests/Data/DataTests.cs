using System.Reflection;
using System.Text;
using CourseLib.Data;
using CourseLib.Init;

namespace CourseLib.Tests.Data;

public class DataTests
{
    internal static string DatasetsDirectory
    {
        get
        {
            string root = typeof(DataTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "CourseLib.Root").Value!;
            return Path.Combine(root, "datasets");
        }
    }

    [Theory]
    [InlineData(SequenceTaskKind.Copy)]
    [InlineData(SequenceTaskKind.Reverse)]
    [InlineData(SequenceTaskKind.Sort)]
    public void SequenceTask_AnyKind_TargetsAreTheMappedInput(SequenceTaskKind kind)
    {
        var task = new SequenceTask(kind, length: 8, vocab: 14, seed: 3);
        Batch b = task.Next(16);
        Assert.Equal(16, b.Time);
        for (int s = 0; s < b.Size; s++)
        {
            var row = b.Tokens.AsSpan(s * 16, 16).ToArray();
            var lab = b.Labels.AsSpan(s * 16, 16).ToArray();
            int[] x = row[..8];
            int[] want = kind switch
            {
                SequenceTaskKind.Copy => x,
                SequenceTaskKind.Reverse => x.Reverse().ToArray(),
                _ => x.Order().ToArray(),
            };
            Assert.All(x, v => Assert.InRange(v, 0, 12));
            Assert.Equal(13, row[8]);
            Assert.All(lab[..8], v => Assert.Equal(-1, v));
            Assert.Equal(want, lab[8..]);
            // Teacher forcing: the input after the separator is the target shifted by one.
            Assert.Equal(want[..7], row[9..]);
        }
    }

    [Fact]
    public void SequenceTask_SameSeed_SameBatches()
    {
        var a = new SequenceTask(SequenceTaskKind.Copy, 5, 10, seed: 7);
        var b = new SequenceTask(SequenceTaskKind.Copy, 5, 10, seed: 7);
        var c = new SequenceTask(SequenceTaskKind.Copy, 5, 10, seed: 8);
        int[] ta = a.Next(4).Tokens!;
        Assert.Equal(ta, b.Next(4).Tokens);
        Assert.NotEqual(ta, c.Next(4).Tokens);
    }

    [Fact]
    public void ModularAddition_Labels_AreTheSumModP()
    {
        Batch b = SyntheticTasks.ModularAddition(64, 13, new Rng(1));
        for (int i = 0; i < 64; i++)
        {
            Assert.Equal(13, b.Tokens![3 * i + 2]);
            Assert.Equal((b.Tokens[3 * i] + b.Tokens[3 * i + 1]) % 13, b.Labels![3 * i + 2]);
            Assert.Equal(-1, b.Labels[3 * i]);
        }
    }

    [Fact]
    public void SparseParity_Labels_AreParityOfSecretBits()
    {
        var rng = new Rng(5);
        int[] secret = SyntheticTasks.ParitySecret(20, 3, rng);
        Assert.Equal(3, secret.Distinct().Count());
        Batch b = SyntheticTasks.SparseParity(200, 20, secret, rng);
        for (int i = 0; i < 200; i++)
        {
            int ones = secret.Count(s => b.Inputs![i * 20 + s] > 0);
            Assert.Equal(ones % 2, b.Labels![i]);
        }

        // Both classes occur about equally often.
        Assert.InRange(b.Labels!.Count(l => l == 1), 70, 130);
    }

    [Fact]
    public void TwoSpirals_Points_LieOnTheirArm()
    {
        Batch b = SyntheticTasks.TwoSpirals(500, new Rng(2), noise: 0);
        for (int i = 0; i < 500; i++)
        {
            double x = b.Inputs![2 * i], y = b.Inputs[2 * i + 1];
            double r = Math.Sqrt(x * x + y * y);
            // θ = 1.5·2π·r (+π): the point rotated back by its arm's angle lies on the positive x-axis.
            double theta = 3 * Math.PI * r + b.Labels![i] * Math.PI;
            double back = Math.Atan2(y, x) - theta;
            Assert.True(Math.Abs(Math.Sin(back)) < 1e-4 && Math.Cos(back) > 0, $"point {i} ({x}, {y}) label {b.Labels[i]} is off its arm");
        }

        Assert.InRange(b.Labels!.Count(l => l == 1), 200, 300);
    }

    [Fact]
    public void NoisySine_Residuals_HaveTheRequestedStd()
    {
        Batch b = SyntheticTasks.NoisySine(4000, new Rng(9), noise: 0.1);
        double ss = 0;
        for (int i = 0; i < 4000; i++)
        {
            double d = b.Values![i] - Math.Sin(b.Inputs![i]);
            ss += d * d;
        }

        Assert.InRange(Math.Sqrt(ss / 4000), 0.095, 0.105);
    }

    [Fact]
    public void CharTokenizer_EncodeDecode_RoundTrips()
    {
        var tok = new CharTokenizer("hello world");
        Assert.Equal(8, tok.VocabSize);
        Assert.Equal("low drew", tok.Decode(tok.Encode("low drew")));
        var e = Assert.Throws<ArgumentException>(() => tok.Encode("hex"));
        Assert.Contains("'x'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CourseCorpus_Shipped_LoadsWithMatchingChecksum()
    {
        TextCorpus corpus = TextCorpus.LoadCourseCorpus(DatasetsDirectory);
        Assert.True(new FileInfo(corpus.Source).Length <= 1_000_000);
        Assert.InRange(corpus.Tokenizer.VocabSize, 30, 80);
        Batch b = corpus.NextBatch(4, 32, new Rng(1));
        // Labels are the inputs shifted by one position.
        Assert.Equal(b.Tokens!.AsSpan(1, 31).ToArray(), b.Labels!.AsSpan(0, 31).ToArray());
    }

    [Fact]
    public void CourseCorpus_Generator_ReproducesShippedBytes()
    {
        string text = CorpusGenerator.Generate(CorpusGenerator.CourseSeed, CorpusGenerator.CourseCharacters);
        Assert.Equal(TextCorpus.CourseCorpusSha256, TextCorpus.Sha256Hex(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void TextCorpus_AlteredFile_FailsWithChecksumMessage()
    {
        string dir = Directory.CreateTempSubdirectory("courselib-corpus").FullName;
        try
        {
            string path = Path.Combine(dir, TextCorpus.CourseCorpusFile);
            File.Copy(Path.Combine(DatasetsDirectory, TextCorpus.CourseCorpusFile), path);
            File.AppendAllText(path, "x");
            var e = Assert.Throws<InvalidDataException>(() => TextCorpus.LoadCourseCorpus(dir));
            Assert.Contains("SHA-256", e.Message, StringComparison.Ordinal);
            File.Delete(path);
            Assert.Throws<FileNotFoundException>(() => TextCorpus.LoadCourseCorpus(dir));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void TextCorpus_LearnersOwnFile_LoadsWithoutChecksum()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "to be or not to be");
            TextCorpus c = TextCorpus.Load(path);
            Assert.Equal(18, c.Tokens.Length);
            Assert.Equal("to be", c.Tokenizer.Decode(c.Tokens.AsSpan(0, 5)));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
