using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace NewsBot.Topics;

/// <summary>
/// Tags posts with topics. Keywords are split into words and stemmed once, here; a post is split and stemmed
/// once per <see cref="Match"/> and every topic's phrases are looked up on that one word list, so the cost is
/// one pass over the text whatever the number of topics.
/// </summary>
/// <remarks>
/// Words are runs of letters and digits (an apostrophe between letters stays in the word, so "Korea's" is one
/// word, stemmed to "korea"); everything else separates words, so "North-Korea", "North Korea" and
/// "north, korea" all match the phrase "north korea". Each Han or kana character is a word of its own, as
/// Japanese is written without spaces: the keyword "北朝鮮" is then the phrase 北 朝 鮮.
/// The text is expected as plain text; markup left in it only adds words. Immutable once built, so one
/// instance serves concurrent refreshes.
/// </remarks>
public sealed class TopicMatcher
{
    private const int Unknown = -1;
    private const int Boundary = -2;

    private readonly List<TopicOptions> topics;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> wordIds;
    private readonly Phrase[][] phrasesByFirstWord;

    // Most words of a post are in no keyword, and stemming them is most of the cost of Match. A stem keeps its
    // word's first two letters (or its first letter when the stem is one letter long), so a word whose first
    // two letters start no keyword stem cannot match and is skipped without stemming.
    private readonly bool[] stemStarts = new bool[65536];
    private readonly bool[] oneLetterStems = new bool[65536];
    private readonly Dictionary<string, List<int>> topicsByLabel = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> topicByName = new(StringComparer.Ordinal);

    public TopicMatcher(IEnumerable<TopicOptions> topics)
    {
        ArgumentNullException.ThrowIfNull(topics);
        this.topics = [.. topics];
        var errors = TopicOptions.Validate(this.topics, TopicOptions.Section).ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid topics: " + string.Join("; ", errors), nameof(topics));
        }

        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var phrases = new List<List<Phrase>>();
        for (var t = 0; t < this.topics.Count; t++)
        {
            var topic = this.topics[t];
            topicByName[NormalizeLabel(topic.Name)] = t;
            AddLabel(topic.Name, t);
            foreach (var label in topic.Labels)
            {
                AddLabel(label, t);
            }

            foreach (var keyword in topic.Keywords)
            {
                var words = StemWords(keyword);
                var phrase = new int[words.Count];
                for (var w = 0; w < words.Count; w++)
                {
                    if (!ids.TryGetValue(words[w], out var id))
                    {
                        id = ids.Count;
                        ids.Add(words[w], id);
                        phrases.Add([]);
                        if (words[w].Length == 1)
                        {
                            oneLetterStems[words[w][0]] = true;
                        }
                        else
                        {
                            stemStarts[StartKey(words[w][0], words[w][1])] = true;
                        }
                    }

                    phrase[w] = id;
                }

                phrases[phrase[0]].Add(new Phrase(t, phrase));
            }
        }

        Names = [.. this.topics.Select(t => t.Name)];
        wordIds = ids.GetAlternateLookup<ReadOnlySpan<char>>();
        phrasesByFirstWord = [.. phrases.Select(p => p.ToArray())];
    }

    /// <summary>Topic names in configuration order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>
    /// The topics of one post, in configuration order: those with a keyword in <paramref name="title"/> or
    /// <paramref name="text"/> (plain text), and those naming one of <paramref name="labels"/>.
    /// </summary>
    public IReadOnlyList<string> Match(string title, string text, IReadOnlyList<string> labels)
    {
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(labels);

        var matched = new bool[topics.Count];
        foreach (var label in labels)
        {
            if (label is not null && topicsByLabel.TryGetValue(NormalizeLabel(label), out var labelled))
            {
                foreach (var t in labelled)
                {
                    matched[t] = true;
                }
            }
        }

        // At most one word per character of the text, plus the boundary between title and text.
        var words = ArrayPool<int>.Shared.Rent(title.Length + text.Length + 1);
        try
        {
            var count = AppendWordIds(title, words, 0);
            words[count++] = Boundary;
            count = AppendWordIds(text, words, count);
            MatchPhrases(words.AsSpan(0, count), matched);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(words);
        }

        var names = new List<string>();
        for (var t = 0; t < matched.Length; t++)
        {
            if (matched[t])
            {
                names.Add(topics[t].Name);
            }
        }

        return names;
    }

    /// <summary>
    /// The topic called <paramref name="nameOrWords"/>, case-insensitively, with '-' and spaces alike:
    /// "north-korea", "North Korea" and "NORTH-KOREA" all find <c>north-korea</c>.
    /// </summary>
    public bool TryFind(string nameOrWords, [MaybeNullWhen(false)] out TopicOptions topic)
    {
        if (nameOrWords is not null && topicByName.TryGetValue(NormalizeLabel(nameOrWords), out var t))
        {
            topic = topics[t];
            return true;
        }

        topic = null;
        return false;
    }

    /// <summary>The stems of the words of <paramref name="text"/>; a word longer than <see cref="Stemmer.MaxWordLength"/> is returned lower-cased, unstemmed.</summary>
    internal static List<string> StemWords(string text)
    {
        var stems = new List<string>();
        var position = 0;
        while (ReadWord(text, ref position, out var start, out var length))
        {
            var buffer = new char[length + 1];
            var n = FoldWord(text.AsSpan(start, length), buffer);
            if (length <= Stemmer.MaxWordLength)
            {
                n = Stemmer.Stem(buffer, n);
            }

            if (n > 0)
            {
                stems.Add(new string(buffer, 0, n));
            }
        }

        return stems;
    }

    private void MatchPhrases(ReadOnlySpan<int> words, bool[] matched)
    {
        for (var i = 0; i < words.Length; i++)
        {
            var id = words[i];
            if (id < 0)
            {
                continue;
            }

            foreach (var phrase in phrasesByFirstWord[id])
            {
                if (!matched[phrase.Topic] && words[i..].StartsWith(phrase.WordIds))
                {
                    matched[phrase.Topic] = true;
                }
            }
        }
    }

    private int AppendWordIds(string text, int[] words, int count)
    {
        Span<char> buffer = stackalloc char[Stemmer.MaxWordLength + 1];
        var position = 0;
        while (ReadWord(text, ref position, out var start, out var length))
        {
            var id = Unknown;
            if (length <= Stemmer.MaxWordLength)
            {
                var n = FoldWord(text.AsSpan(start, length), buffer);
                if (MayStartStem(buffer, n))
                {
                    n = Stemmer.Stem(buffer, n);
                    if (!wordIds.TryGetValue(buffer[..n], out id))
                    {
                        id = Unknown;
                    }
                }
            }

            words[count++] = id;
        }

        return count;
    }

    // See stemStarts. Words of one or two letters and words starting with an apostrophe are always looked up.
    private bool MayStartStem(ReadOnlySpan<char> word, int length) =>
        length <= 2 || word[0] == '\'' || word[1] == '\''
            || stemStarts[StartKey(word[0], word[1])] || oneLetterStems[word[0]];

    private static int StartKey(char first, char second) => ((first * 31) + second) & 0xFFFF;

    // Finds the next word at or after position. See the class remarks for what a word is.
    private static bool ReadWord(ReadOnlySpan<char> text, ref int position, out int start, out int length)
    {
        var i = position;
        while (i < text.Length && !char.IsLetterOrDigit(text[i]))
        {
            i++;
        }

        start = i;
        if (i == text.Length)
        {
            position = i;
            length = 0;
            return false;
        }

        i++;
        if (!IsHanOrKana(text[start]))
        {
            while (i < text.Length && !IsHanOrKana(text[i]))
            {
                var c = text[i];
                var inWord = char.IsLetterOrDigit(c)
                    || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark
                        or System.Globalization.UnicodeCategory.SpacingCombiningMark
                    || (c is '\'' or '\u2019' && i + 1 < text.Length && char.IsLetter(text[i + 1]) && !IsHanOrKana(text[i + 1]));
                if (!inWord)
                {
                    break;
                }

                i++;
            }
        }

        position = i;
        length = i - start;
        return true;
    }

    private static int FoldWord(ReadOnlySpan<char> word, Span<char> buffer)
    {
        var n = 0;
        foreach (var c in word)
        {
            var folded = Stemmer.FoldLetter(c);
            if (folded != '\0')
            {
                buffer[n++] = folded;
            }
        }

        return n;
    }

    // Hiragana, katakana (with the prolonged sound mark), CJK ideographs and the iteration mark 々.
    private static bool IsHanOrKana(char c) =>
        c is (>= '\u3005' and <= '\u3007') or (>= '\u3040' and <= '\u30FF') or (>= '\u31F0' and <= '\u31FF')
            or (>= '\u3400' and <= '\u4DBF') or (>= '\u4E00' and <= '\u9FFF') or (>= '\uF900' and <= '\uFAFF')
            or (>= '\uFF66' and <= '\uFF9F');

    // Labels and names compare lower-cased, with '-' and '_' as spaces and runs of spaces as one.
    private static string NormalizeLabel(string label)
    {
        var words = label.ToLowerInvariant().Split([' ', '-', '_', '\t', '\n', '\r', '\u00A0', '\u3000'], StringSplitOptions.RemoveEmptyEntries);
        return string.Join(' ', words);
    }

    private void AddLabel(string label, int topic)
    {
        var key = NormalizeLabel(label);
        if (!topicsByLabel.TryGetValue(key, out var list))
        {
            list = [];
            topicsByLabel.Add(key, list);
        }

        if (!list.Contains(topic))
        {
            list.Add(topic);
        }
    }

    private sealed record Phrase(int Topic, int[] WordIds);
}
