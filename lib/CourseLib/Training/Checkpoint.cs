using System.Text;
using CourseLib.Layers;

namespace CourseLib.Training;

/// <summary>
/// Saves and loads a model's weights and, optionally, its optimizer's state, in a small binary format:
/// a magic string and version, then each parameter (name, shape, values), then the optimizer (kind, step,
/// state buffers per parameter). Writes go to a temporary file in the same folder that is then renamed over
/// the target, so a crash mid-write never leaves a half-written checkpoint behind.
/// </summary>
public static class Checkpoint
{
    /// <summary>Format version written by this library; loading another version fails with a clear message.</summary>
    public const int FormatVersion = 1;

    private const string Magic = "CourseLib.Checkpoint";

    /// <summary>Writes <paramref name="model"/>'s parameters and <paramref name="optimizer"/>'s state (if given) to <paramref name="path"/>, atomically.</summary>
    public static void Save(string path, Module model, Optimizer? optimizer = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
            {
                w.Write(Magic);
                w.Write(FormatVersion);
                var ps = model.NamedParameters().ToList();
                w.Write(ps.Count);
                foreach (var (name, p) in ps)
                {
                    w.Write(name);
                    w.Write(p.Shape.Count);
                    foreach (int d in p.Shape)
                    {
                        w.Write(d);
                    }

                    WriteFloats(w, p.Data);
                }

                w.Write(optimizer is not null);
                if (optimizer is not null)
                {
                    w.Write(optimizer.Kind);
                    w.Write(optimizer.StepCount);
                    w.Write(optimizer.LearningRate);
                    w.Write(optimizer.Parameters.Count);
                    for (int k = 0; k < optimizer.Parameters.Count; k++)
                    {
                        var state = optimizer.StateOf(k);
                        w.Write(optimizer.Parameters[k].Name);
                        w.Write(state.Count);
                        foreach (float[] s in state)
                        {
                            WriteFloats(w, s);
                        }
                    }
                }

                w.Flush();
                // Make the bytes durable before the rename makes them visible under the real name.
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>
    /// Loads weights into <paramref name="model"/> and, if given, state into <paramref name="optimizer"/>. Names,
    /// shapes, the format version and the optimizer kind must all match; otherwise nothing is changed and an
    /// <see cref="InvalidDataException"/> says what differs.
    /// </summary>
    public static void Load(string path, Module model, Optimizer? optimizer = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        }

        using var stream = File.OpenRead(path);
        using var r = new BinaryReader(stream, Encoding.UTF8);
        string magic;
        try
        {
            magic = r.ReadString();
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or FormatException)
        {
            throw new InvalidDataException($"'{path}' is not a CourseLib checkpoint (unreadable header).", e);
        }

        if (magic != Magic)
        {
            throw new InvalidDataException($"'{path}' is not a CourseLib checkpoint (header '{Truncate(magic)}').");
        }

        int version = r.ReadInt32();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Checkpoint '{path}' has format version {version}; this library reads version {FormatVersion}. Re-save it with the matching CourseLib version.");
        }

        var ps = model.NamedParameters().ToList();
        int count = r.ReadInt32();
        if (count != ps.Count)
        {
            throw new InvalidDataException($"Checkpoint '{path}' holds {count} parameters but the model has {ps.Count}: it was saved from a different architecture.");
        }

        // Read everything first, apply only when all of it matched, so a failed load leaves the model untouched.
        var weights = new float[count][];
        for (int k = 0; k < count; k++)
        {
            string name = r.ReadString();
            int rank = r.ReadInt32();
            var shape = new int[rank];
            for (int d = 0; d < rank; d++)
            {
                shape[d] = r.ReadInt32();
            }

            var (expectedName, p) = ps[k];
            if (name != expectedName)
            {
                throw new InvalidDataException($"Checkpoint '{path}': parameter {k} is '{name}' but the model's is '{expectedName}': it was saved from a different architecture.");
            }

            if (!shape.SequenceEqual(p.Shape))
            {
                throw new InvalidDataException($"Checkpoint '{path}': parameter '{name}' has shape [{string.Join(", ", shape)}] but the model's is {p.ShapeText}.");
            }

            weights[k] = ReadFloats(r, p.Count, name, path);
        }

        bool hasOptimizer = r.ReadBoolean();
        float[][][]? states = null;
        int steps = 0;
        double lr = 0;
        if (optimizer is not null)
        {
            if (!hasOptimizer)
            {
                throw new InvalidDataException($"Checkpoint '{path}' holds weights only; it has no optimizer state to load into {optimizer.Kind}.");
            }

            string kind = r.ReadString();
            if (kind != optimizer.Kind)
            {
                throw new InvalidDataException($"Checkpoint '{path}' holds {kind} state but the optimizer is {optimizer.Kind}.");
            }

            steps = r.ReadInt32();
            lr = r.ReadDouble();
            int n = r.ReadInt32();
            if (n != optimizer.Parameters.Count)
            {
                throw new InvalidDataException($"Checkpoint '{path}' holds optimizer state for {n} parameters but the optimizer has {optimizer.Parameters.Count}.");
            }

            states = new float[n][][];
            for (int k = 0; k < n; k++)
            {
                string name = r.ReadString();
                var target = optimizer.StateOf(k);
                int buffers = r.ReadInt32();
                if (name != optimizer.Parameters[k].Name || buffers != target.Count)
                {
                    throw new InvalidDataException($"Checkpoint '{path}': optimizer state {k} is for '{name}' with {buffers} buffers, the optimizer expects '{optimizer.Parameters[k].Name}' with {target.Count}.");
                }

                states[k] = new float[buffers][];
                for (int b = 0; b < buffers; b++)
                {
                    states[k][b] = ReadFloats(r, target[b].Length, name, path);
                }
            }
        }

        for (int k = 0; k < count; k++)
        {
            weights[k].CopyTo(ps[k].Parameter.Data, 0);
        }

        if (optimizer is not null && states is not null)
        {
            for (int k = 0; k < states.Length; k++)
            {
                var target = optimizer.StateOf(k);
                for (int b = 0; b < states[k].Length; b++)
                {
                    states[k][b].CopyTo(target[b], 0);
                }
            }

            optimizer.RestoreStepCount(steps);
            optimizer.LearningRate = lr;
        }
    }

    private static void WriteFloats(BinaryWriter w, float[] data)
    {
        w.Write(data.Length);
        w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
    }

    private static float[] ReadFloats(BinaryReader r, int expected, string name, string path)
    {
        int n = r.ReadInt32();
        if (n != expected)
        {
            throw new InvalidDataException($"Checkpoint '{path}': '{name}' holds {n} values, {expected} expected.");
        }

        var a = new float[n];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan());
        if (r.Read(bytes) != bytes.Length)
        {
            throw new InvalidDataException($"Checkpoint '{path}' ends inside '{name}': the file is truncated.");
        }

        return a;
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
