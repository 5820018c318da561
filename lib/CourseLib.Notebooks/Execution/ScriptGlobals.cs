namespace CourseLib.Notebooks.Execution;

/// <summary>
/// What a cell can call without qualification, mirroring the helpers the C# kernel imports with
/// <c>using static Microsoft.DotNet.Interactive.Kernel</c>: <c>display(value, mimeTypes)</c>, returning a
/// handle whose <c>Update</c> replaces that output.
/// </summary>
public sealed class ScriptGlobals
{
    private readonly OutputCollector _outputs;

    /// <summary>Creates the globals over the collector of the running notebook.</summary>
    public ScriptGlobals(OutputCollector outputs) => _outputs = outputs;

    /// <summary>Shows a value as an output of the current cell, formatted for the first of <paramref name="mimeTypes"/> if given.</summary>
#pragma warning disable IDE1006 // The kernel's helper is lower-case; notebooks must compile unchanged in both.
    public DisplayedValue display(object? value, params string[] mimeTypes)
#pragma warning restore IDE1006
    {
        (string mime, string text) = ValueFormatter.Format(value, mimeTypes);
        return new DisplayedValue(_outputs, _outputs.Display(mime, text), mimeTypes);
    }
}

/// <summary>A displayed output that can be replaced, like the kernel's <c>DisplayedValue</c>.</summary>
public sealed class DisplayedValue
{
    private readonly OutputCollector _outputs;
    private readonly string[] _mimeTypes;

    internal DisplayedValue(OutputCollector outputs, string displayId, string[] mimeTypes)
    {
        _outputs = outputs;
        DisplayId = displayId;
        _mimeTypes = mimeTypes;
    }

    /// <summary>The id shared by the output and its updates.</summary>
    public string DisplayId { get; }

    /// <summary>Replaces the output with <paramref name="updatedValue"/>, formatted as the original display was.</summary>
    public void Update(object? updatedValue)
    {
        (string mime, string text) = ValueFormatter.Format(updatedValue, _mimeTypes);
        _outputs.Update(DisplayId, mime, text);
    }
}
