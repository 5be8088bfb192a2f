using System.Text.RegularExpressions;

namespace NewsBot.Topics;

/// <summary>One topic from the <c>NewsBot:Topics</c> array: a post is in it when a keyword or a label matches.</summary>
public sealed partial class TopicOptions
{
    public const string Section = "NewsBot:Topics";

    /// <summary>Lower-case slug used in <c>/topic &lt;name&gt;</c> and stored on posts, e.g. <c>north-korea</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>Words or phrases, matched whole-word on their stems: "sanction" also finds "sanctioned".</summary>
    public List<string> Keywords { get; set; } = [];

    /// <summary>Blog labels (Atom categories) that put a post in this topic, compared case-insensitively.</summary>
    public List<string> Labels { get; set; } = [];

    /// <summary>
    /// What is wrong with <paramref name="topics"/>, one message per problem, each naming the configuration key
    /// under <paramref name="section"/> (e.g. <c>NewsBot:Topics:2:Name is empty</c>). Empty when all is well.
    /// </summary>
    public static IEnumerable<string> Validate(IReadOnlyList<TopicOptions> topics, string section)
    {
        ArgumentNullException.ThrowIfNull(topics);
        var firstIndexByName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < topics.Count; i++)
        {
            var topic = topics[i];
            var key = $"{section}:{i}";
            if (topic is null)
            {
                yield return $"{key} is null";
                continue;
            }

            if (string.IsNullOrWhiteSpace(topic.Name))
            {
                yield return $"{key}:Name is empty";
            }
            else if (!NamePattern().IsMatch(topic.Name))
            {
                yield return $"{key}:Name '{topic.Name}' must be lowercase letters, digits and '-'";
            }
            else if (!firstIndexByName.TryAdd(topic.Name, i))
            {
                yield return $"{key}:Name '{topic.Name}' duplicates {section}:{firstIndexByName[topic.Name]}:Name";
            }

            var keywords = topic.Keywords ?? [];
            var labels = topic.Labels ?? [];
            if (keywords.Count == 0 && labels.Count == 0)
            {
                yield return $"{key} ('{topic.Name}') has neither Keywords nor Labels";
            }

            for (var k = 0; k < keywords.Count; k++)
            {
                var words = TopicMatcher.StemWords(keywords[k] ?? "");
                if (words.Count == 0)
                {
                    yield return $"{key}:Keywords:{k} '{keywords[k]}' has no letters or digits";
                }
                else if (words.Any(w => w.Length > Stemmer.MaxWordLength))
                {
                    yield return $"{key}:Keywords:{k} '{keywords[k]}' has a word longer than {Stemmer.MaxWordLength} characters";
                }
            }

            for (var l = 0; l < labels.Count; l++)
            {
                if (string.IsNullOrWhiteSpace(labels[l]))
                {
                    yield return $"{key}:Labels:{l} is empty";
                }
            }
        }
    }

    // A slug: "north-korea", "g7"; no leading, trailing or doubled '-'.
    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex NamePattern();
}
