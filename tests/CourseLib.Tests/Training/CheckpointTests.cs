using CourseLib.Data;
using CourseLib.Models;
using CourseLib.Training;

namespace CourseLib.Tests.Training;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("courselib-ckpt").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void Checkpoint_SaveLoadMidRun_ResumesBitIdentically()
    {
        var cfg = TrainerTests.SmallLm(3);
        var task1 = new SequenceTask(SequenceTaskKind.Reverse, 4, 10, seed: 11);
        var batches = Enumerable.Range(0, 12).Select(_ => task1.Next(4)).ToArray();

        var straight = new TinyLm(cfg);
        var opt = new Adam(straight, 2e-3);
        var t = new Trainer(straight, opt);
        t.Run(i => batches[i], 12);

        var first = new TinyLm(cfg);
        var opt1 = new Adam(first, 2e-3);
        new Trainer(first, opt1).Run(i => batches[i], 6);
        string path = Path.Combine(_dir, "mid.ckpt");
        Checkpoint.Save(path, first, opt1);

        var resumed = new TinyLm(cfg with { Seed = 99 });
        var opt2 = new Adam(resumed, 1.0);
        Checkpoint.Load(path, resumed, opt2);
        Assert.Equal(6, opt2.StepCount);
        var t2 = new Trainer(resumed, opt2, new ConstantSchedule(2e-3));
        TrainingHistory h2 = t2.Run(i => batches[6 + i], 6);

        Assert.Equal(t.History.Losses[6..], h2.Losses);
        Assert.Equal(straight.Parameters().SelectMany(p => p.Data), resumed.Parameters().SelectMany(p => p.Data));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Checkpoint_OtherShape_FailsNamingParameterAndShapes()
    {
        string path = Path.Combine(_dir, "a.ckpt");
        Checkpoint.Save(path, new TinyLm(TrainerTests.SmallLm()));
        var wider = new TinyLm(TrainerTests.SmallLm() with { Channels = 24 });
        float before = wider.Head.Weight.Data[0];
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, wider));
        Assert.Contains("'embed.token' has shape [10, 16] but the model's is [10, 24]", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, wider.Head.Weight.Data[0]);

        var deeper = new TinyLm(TrainerTests.SmallLm() with { Layers = 3 });
        e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, deeper));
        Assert.Contains("different architecture", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Checkpoint_OtherVersionOrTruncated_FailsClearly()
    {
        var model = new TinyLm(TrainerTests.SmallLm());
        string path = Path.Combine(_dir, "v.ckpt");
        Checkpoint.Save(path, model, new Adam(model, 1e-3));
        byte[] bytes = File.ReadAllBytes(path);

        // The version follows the length-prefixed magic string.
        int at = 1 + "CourseLib.Checkpoint".Length;
        byte[] v2 = (byte[])bytes.Clone();
        v2[at] = 2;
        File.WriteAllBytes(path, v2);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, model));
        Assert.Contains("format version 2", e.Message, StringComparison.Ordinal);

        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        Assert.ThrowsAny<Exception>(() => Checkpoint.Load(path, model, new Adam(model, 1e-3)));

        File.WriteAllBytes(path, bytes);
        e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, model, new Sgd(model, 0.1, momentum: 0.9)));
        Assert.Contains("holds Adam state but the optimizer is SGD", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Checkpoint_Overwrite_ReplacesAtomicallyWithoutTempFiles()
    {
        var model = new TinyLm(TrainerTests.SmallLm());
        string path = Path.Combine(_dir, "o.ckpt");
        Checkpoint.Save(path, model);
        model.Head.Weight.Data[0] = 42f;
        Checkpoint.Save(path, model);
        var other = new TinyLm(TrainerTests.SmallLm());
        Checkpoint.Load(path, other);
        Assert.Equal(42f, other.Head.Weight.Data[0]);
        Assert.Equal(new[] { path }, Directory.GetFiles(_dir));
    }
}
