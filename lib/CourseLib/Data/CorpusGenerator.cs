using System.Text;
using CourseLib.Init;

namespace CourseLib.Data;

/// <summary>
/// Generates the course's natural-text corpus: short stories from a small English grammar (characters, places,
/// actions, feelings), so the text has real spelling, word order and punctuation for a character model to learn,
/// with no licence question. The same seed and size always give the same text; datasets/tiny-stories.txt is
/// <c>Generate(seed: 2024, characters: 400_000)</c>.
/// </summary>
public static class CorpusGenerator
{
    private static readonly string[] Names = ["Ada", "Ben", "Cleo", "Dan", "Eve", "Finn", "Gus", "Hana", "Ivy", "Jack", "Kira", "Leo", "Mia", "Noah", "Olive", "Pip", "Rosa", "Sam", "Tom", "Zoe"];
    private static readonly string[] Animals = ["cat", "dog", "fox", "owl", "bird", "frog", "bear", "duck", "mouse", "rabbit", "horse", "goat"];
    private static readonly string[] Adjectives = ["little", "old", "happy", "sleepy", "brave", "small", "big", "kind", "quiet", "shy", "clever", "funny"];
    private static readonly string[] Colors = ["red", "blue", "green", "yellow", "brown", "white", "black", "gray"];
    private static readonly string[] Places = ["the park", "the river", "the garden", "the forest", "the beach", "the hill", "the market", "the school", "the farm", "the lake"];
    private static readonly string[] Things = ["ball", "kite", "box", "hat", "book", "cake", "boat", "stone", "flower", "apple", "drum", "map"];
    private static readonly string[] Verbs = ["found", "saw", "lost", "made", "wanted", "liked", "carried", "painted", "shared", "hid"];
    private static readonly string[] Moves = ["walked", "ran", "went", "jumped", "hurried", "danced", "swam", "climbed"];
    private static readonly string[] Feelings = ["happy", "sad", "scared", "proud", "tired", "excited", "surprised", "calm"];
    private static readonly string[] Weather = ["The sun was warm.", "It started to rain.", "The wind was cold.", "The sky was blue.", "It was a snowy day.", "The night was dark."];
    private static readonly string[] Says = ["said", "asked", "shouted", "whispered", "laughed"];
    private static readonly string[] Endings = ["They played until the sun went down.", "Then they went home for dinner.", "It was the best day ever.", "They were friends again.", "After that, they always shared.", "And they lived happily ever after."];

    /// <summary>The shipped corpus's seed.</summary>
    public const int CourseSeed = 2024;

    /// <summary>The shipped corpus's length in characters (all ASCII, so also bytes).</summary>
    public const int CourseCharacters = 400_000;

    /// <summary>Stories from <paramref name="seed"/> until the text reaches <paramref name="characters"/> (cut at a story end).</summary>
    public static string Generate(int seed, int characters)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(characters, 1);
        var rng = new Rng(seed);
        var sb = new StringBuilder(characters + 1024);
        while (sb.Length < characters)
        {
            string story = Story(rng);
            if (sb.Length > 0 && sb.Length + story.Length > characters)
            {
                break;
            }

            sb.Append(story);
        }

        return sb.ToString();
    }

    // "an old owl", "a big bear": the article a reader expects, so the model learns real English.
    private static string A(string word) => ("aeiou".Contains(word[0], StringComparison.Ordinal) ? "an " : "a ") + word;

    private static string Pick(Rng rng, string[] items) => items[rng.Next(items.Length)];

    private static string Story(Rng rng)
    {
        string hero = Pick(rng, Names), friend = Pick(rng, Names);
        while (friend == hero)
        {
            friend = Pick(rng, Names);
        }

        string animal = Pick(rng, Animals), adj = Pick(rng, Adjectives), thing = Pick(rng, Things), color = Pick(rng, Colors);
        string place = Pick(rng, Places);
        var s = new StringBuilder();
        s.Append(rng.Next(2) == 0 ? "Once upon a time, " : "One day, ")
         .Append($"there was {A(adj)} {animal} named {hero}. ");
        s.Append($"{hero} lived near {place} with a friend called {friend}. ");
        s.Append(Pick(rng, Weather)).Append(' ');
        int events = 2 + rng.Next(4);
        for (int e = 0; e < events; e++)
        {
            switch (rng.Next(5))
            {
                case 0:
                    s.Append($"{hero} {Pick(rng, Moves)} to {Pick(rng, Places)}. ");
                    break;
                case 1:
                    s.Append($"{(rng.Next(2) == 0 ? hero : friend)} {Pick(rng, Verbs)} {A(color)} {thing}. ");
                    break;
                case 2:
                    s.Append($"\"Can we {(rng.Next(2) == 0 ? "play" : "go")} now?\" {friend} {Pick(rng, Says)}. ");
                    break;
                case 3:
                    s.Append($"{hero} felt {Pick(rng, Feelings)}, because the {thing} was {Pick(rng, Adjectives)}. ");
                    break;
                default:
                    s.Append($"\"Look at the {Pick(rng, Adjectives)} {Pick(rng, Animals)}!\" {hero} {Pick(rng, Says)}. ");
                    break;
            }
        }

        s.Append(Pick(rng, Endings)).Append("\n\n");
        return s.ToString();
    }
}
