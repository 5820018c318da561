using System.Text;
using CourseLib.Notebooks.Model;

namespace CourseLib.Notebooks.Execution;

/// <summary>
/// The outputs of the cell that is running, in the order they were produced: console text (consecutive writes
/// to the same stream merge into one output) and displays (which <see cref="Update"/> replaces in place).
/// Writes can come from any thread, e.g. a library logging from a worker thread.
/// </summary>
public sealed class OutputCollector
{
    private readonly Lock _lock = new();
    private readonly List<CellOutput> _outputs = [];
    // The stream output being written, kept open so a cell printing thousands of lines appends in linear time.
    private readonly StringBuilder _open = new();
    private string? _openKind;
    private int _nextDisplayId;

    /// <summary>Starts collecting for a new cell and returns what the previous cell produced.</summary>
    public IReadOnlyList<CellOutput> TakeAll()
    {
        lock (_lock)
        {
            CloseStream();
            CellOutput[] all = [.. _outputs];
            _outputs.Clear();
            return all;
        }
    }

    /// <summary>Appends text written to standard output or error.</summary>
    public void Write(string kind, string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        lock (_lock)
        {
            if (_openKind != kind)
            {
                CloseStream();
                _openKind = kind;
            }

            _open.Append(text);
        }
    }

    /// <summary>Adds a display output and returns its id.</summary>
    public string Display(string mimeType, string value)
    {
        lock (_lock)
        {
            CloseStream();
            string id = $"display-{++_nextDisplayId}";
            _outputs.Add(new CellOutput("display", mimeType, value, id));
            return id;
        }
    }

    /// <summary>
    /// Replaces the display with this id. The kernel updates the output wherever it is; if the display belongs to
    /// an earlier cell (whose outputs were already taken) the update has nowhere to go here, so it is shown anew.
    /// </summary>
    public void Update(string displayId, string mimeType, string value)
    {
        lock (_lock)
        {
            CloseStream();
            int i = _outputs.FindIndex(o => o.DisplayId == displayId);
            if (i >= 0)
            {
                _outputs[i] = new CellOutput("display", mimeType, value, displayId);
            }
            else
            {
                _outputs.Add(new CellOutput("display", mimeType, value, displayId));
            }
        }
    }

    private void CloseStream()
    {
        if (_openKind is not null)
        {
            _outputs.Add(new CellOutput(_openKind, "text/plain", _open.ToString()));
            _open.Clear();
            _openKind = null;
        }
    }

    /// <summary>A console writer that feeds this collector.</summary>
    public TextWriter CreateWriter(string kind) => new CollectorWriter(this, kind);

    private sealed class CollectorWriter(OutputCollector collector, string kind) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value) => collector.Write(kind, value.ToString());

        public override void Write(string? value) => collector.Write(kind, value ?? "");

        public override void Write(char[] buffer, int index, int count) => collector.Write(kind, new string(buffer, index, count));

        public override void WriteLine(string? value) => collector.Write(kind, (value ?? "") + NewLine);
    }
}
