using System.Text;

namespace CourseLib.Data;

/// <summary>
/// A character-level tokenizer: one id per distinct character of the training text, in ordinal order, so the same
/// text always gives the same vocabulary. Characters outside the vocabulary are an error, not silently dropped.
/// </summary>
public sealed class CharTokenizer
{
    private readonly char[] _chars;
    private readonly Dictionary<char, int> _ids;

    /// <summary>A tokenizer whose vocabulary is the distinct characters of <paramref name="text"/>.</summary>
    public CharTokenizer(string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        _chars = text.Distinct().Order().ToArray();
        _ids = new Dictionary<char, int>(_chars.Length);
        for (int i = 0; i < _chars.Length; i++)
        {
            _ids[_chars[i]] = i;
        }
    }

    /// <summary>Number of distinct characters (V).</summary>
    public int VocabSize => _chars.Length;

    /// <summary>The vocabulary in id order.</summary>
    public IReadOnlyList<char> Vocabulary => _chars;

    /// <summary>Token ids of <paramref name="text"/>.</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new int[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            if (!_ids.TryGetValue(text[i], out ids[i]))
            {
                throw new ArgumentException($"Character '{text[i]}' (U+{(int)text[i]:X4}) at index {i} is not in the tokenizer's vocabulary of {VocabSize} characters.", nameof(text));
            }
        }

        return ids;
    }

    /// <summary>The text of <paramref name="ids"/>.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var sb = new StringBuilder(ids.Length);
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_chars.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the vocabulary [0, {VocabSize}).");
            }

            sb.Append(_chars[id]);
        }

        return sb.ToString();
    }
}
