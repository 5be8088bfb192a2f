using NewsBot.Topics;

namespace NewsBot.Tests.Topics;

public class TopicMatcherTests
{
    private static TopicOptions Topic(string name, string[] keywords, string[]? labels = null) =>
        new() { Name = name, Keywords = [.. keywords], Labels = [.. labels ?? []] };

    private static IReadOnlyList<string> MatchText(TopicMatcher matcher, string text) => matcher.Match("", text, []);

    [Theory]
    [InlineData("The UN imposed sanctions on Pyongyang.")]
    [InlineData("Three banks were sanctioned last week.")]
    [InlineData("Tokyo is sanctioning two shipping firms.")]
    [InlineData("SANCTION")]
    [InlineData("An oil embargo followed.")]
    [InlineData("Embargoes rarely work.")]
    public void Match_finds_inflected_keywords(string text)
    {
        var matcher = new TopicMatcher([Topic("sanctions", ["sanction", "embargo"])]);

        Assert.Equal(["sanctions"], MatchText(matcher, text));
    }

    [Theory]
    [InlineData("The software update shipped.")]
    [InlineData("She won an award.")]
    [InlineData("Officials warned of delays.")]
    [InlineData("A summit in Warsaw.")]
    [InlineData("Tokyo is sanctionable, said nobody.")]
    public void Match_ignores_keywords_inside_other_words(string text)
    {
        var matcher = new TopicMatcher([Topic("war", ["war"]), Topic("sanctions", ["sanction"])]);

        Assert.Empty(MatchText(matcher, text));
    }

    [Theory]
    [InlineData("Wars are costly.")]
    [InlineData("The warring parties met.")]
    [InlineData("A war-time economy.")]
    [InlineData("(war)")]
    public void Match_finds_whole_words_next_to_punctuation(string text)
    {
        var matcher = new TopicMatcher([Topic("war", ["war"])]);

        Assert.Equal(["war"], MatchText(matcher, text));
    }

    [Theory]
    [InlineData("Talks with North Korea stalled.")]
    [InlineData("NORTH KOREA fired a missile.")]
    [InlineData("North-Korea watchers agree.")]
    [InlineData("the north,\n  korea question")]
    [InlineData("North Korea's missiles")]
    [InlineData("North Korea\u2019s missiles")]
    public void Match_finds_phrases_across_spaces_and_punctuation(string text)
    {
        var matcher = new TopicMatcher([Topic("north-korea", ["north korea"])]);

        Assert.Equal(["north-korea"], MatchText(matcher, text));
    }

    [Theory]
    [InlineData("North of Korea lies China.")]
    [InlineData("Korea, north and south.")]
    [InlineData("The north wind.")]
    [InlineData("South Korea")]
    public void Match_needs_every_word_of_a_phrase_in_order(string text)
    {
        var matcher = new TopicMatcher([Topic("north-korea", ["north korea"])]);

        Assert.Empty(MatchText(matcher, text));
    }

    [Theory]
    [InlineData("The Self-Defense Forces deployed.")]
    [InlineData("self defense force")]
    [InlineData("JAPAN SELF DEFENSE FORCES")]
    public void Match_treats_hyphens_in_keywords_as_word_breaks(string text)
    {
        var matcher = new TopicMatcher([Topic("defense", ["self-defense forces"])]);

        Assert.Equal(["defense"], MatchText(matcher, text));
    }

    [Theory]
    [InlineData("X marks the spot", "x")]
    [InlineData("Ties with Seoul improved", "tie")]
    [InlineData("They hoped for talks", "hope")]
    [InlineData("A spy was arrested", "spy")]
    [InlineData("The o'clock news", "oclock")]
    [InlineData("北", "north")]
    public void Match_finds_short_and_rewritten_stems(string text, string expected)
    {
        var matcher = new TopicMatcher(
        [
            Topic("x", ["x"]),
            Topic("tie", ["tie"]),
            Topic("hope", ["hope"]),
            Topic("spy", ["spies"]),
            Topic("oclock", ["o'clock"]),
            Topic("north", ["北"]),
        ]);

        Assert.Equal([expected], MatchText(matcher, text));
    }

    [Fact]
    public void Match_does_not_join_a_phrase_across_title_and_text()
    {
        var matcher = new TopicMatcher([Topic("north-korea", ["north korea"])]);

        Assert.Empty(matcher.Match("Looking north", "Korea and Japan", []));
        Assert.Equal(["north-korea"], matcher.Match("North Korea", "", []));
    }

    [Fact]
    public void Match_returns_topics_in_configuration_order_once_each()
    {
        var matcher = new TopicMatcher(
        [
            Topic("russia", ["russia", "putin"]),
            Topic("nuclear", ["nuclear"]),
            Topic("ukraine", ["ukraine"], ["War in Ukraine"]),
        ]);

        var topics = matcher.Match(
            "Ukraine and Russia",
            "Ukraine again, then Putin, then Russia, then Ukraine.",
            ["War in Ukraine", "war in ukraine"]);

        Assert.Equal(["russia", "ukraine"], topics);
    }

    [Fact]
    public void Match_uses_labels_and_topic_names_case_insensitively()
    {
        var matcher = new TopicMatcher(
        [
            Topic("sanctions", ["sanction"], ["Economic Sanctions"]),
            Topic("north-korea", ["pyongyang"]),
            Topic("local-autonomy", ["prefecture"], ["Local Government"]),
            Topic("nuclear", ["nuclear"]),
        ]);

        var topics = matcher.Match("A post", "with no keyword at all", ["economic sanctions", "North Korea", "LOCAL-AUTONOMY", "Nuclear Power"]);

        Assert.Equal(["sanctions", "north-korea", "local-autonomy"], topics);
    }

    [Fact]
    public void Match_reads_japanese_and_accented_text()
    {
        var matcher = new TopicMatcher(TopicDefaults.All);

        var topics = matcher.Match("北朝鮮への制裁", "国連安保理は北朝鮮に対する制裁を強化した。Tōkyō 🙂 \ud800 broken surrogate.", []);

        Assert.Equal(["sanctions", "north-korea"], topics);
    }

    [Fact]
    public void Match_folds_macrons_in_keywords_and_text()
    {
        var matcher = new TopicMatcher([Topic("tokyo", ["Tōkyō"]), Topic("osaka", ["osaka"])]);

        Assert.Equal(["tokyo", "osaka"], matcher.Match("", "TOKYO and Ōsaka", []));
    }

    [Fact]
    public void Match_does_not_find_a_single_kanji_inside_a_word_unless_asked()
    {
        var matcher = new TopicMatcher([Topic("north-korea", ["北朝鮮"])]);

        Assert.Empty(matcher.Match("", "北の朝鮮半島", []));
        Assert.Equal(["north-korea"], matcher.Match("", "北朝鮮半島", []));
    }

    [Fact]
    public void Match_finds_a_keyword_at_the_end_of_a_long_body()
    {
        var matcher = new TopicMatcher([Topic("nuclear", ["final disposal site"])]);
        var body = string.Concat(Enumerable.Repeat("The committee met again and adjourned without a decision. ", 1000))
            + new string('x', 500) + " The final disposal sites were named.";

        Assert.True(body.Length > 50_000);
        Assert.Equal(["nuclear"], matcher.Match("Minutes", body, []));
    }

    [Fact]
    public void Constructor_rejects_invalid_topics_with_their_keys()
    {
        var error = Assert.Throws<ArgumentException>(() => new TopicMatcher([Topic("ok", ["a"]), Topic("Bad Name", ["b"])]));

        Assert.Contains("NewsBot:Topics:1:Name 'Bad Name' must be lowercase letters, digits and '-'", error.Message);
    }

    [Theory]
    [InlineData("north-korea")]
    [InlineData("North Korea")]
    [InlineData("NORTH-KOREA")]
    [InlineData("  north   korea ")]
    public void TryFind_finds_a_topic_by_name_with_dashes_or_spaces(string name)
    {
        var matcher = new TopicMatcher(TopicDefaults.All);

        Assert.True(matcher.TryFind(name, out var topic));
        Assert.Equal("north-korea", topic.Name);
    }

    [Theory]
    [InlineData("north")]
    [InlineData("DPRK")]
    [InlineData("")]
    public void TryFind_does_not_guess(string name)
    {
        var matcher = new TopicMatcher(TopicDefaults.All);

        Assert.False(matcher.TryFind(name, out var topic));
        Assert.Null(topic);
    }

    [Fact]
    public void Names_lists_topics_in_configuration_order()
    {
        var matcher = new TopicMatcher([Topic("b", ["b"]), Topic("a", ["a"])]);

        Assert.Equal(["b", "a"], matcher.Names);
    }

    [Fact]
    public void Validate_reports_each_problem_with_its_configuration_key()
    {
        TopicOptions[] topics =
        [
            Topic("sanctions", ["sanction"]),
            Topic("Sanctions!", ["embargo"]),
            Topic("", ["tariff"]),
            Topic("sanctions", [], ["Sanctions"]),
            Topic("empty", []),
            Topic("odd-keywords", ["ok", " -- ", ""], ["  "]),
            Topic("-leading", ["x"]),
        ];

        var messages = TopicOptions.Validate(topics, "NewsBot:Topics").ToList();

        Assert.Equal(
        [
            "NewsBot:Topics:1:Name 'Sanctions!' must be lowercase letters, digits and '-'",
            "NewsBot:Topics:2:Name is empty",
            "NewsBot:Topics:3:Name 'sanctions' duplicates NewsBot:Topics:0:Name",
            "NewsBot:Topics:4 ('empty') has neither Keywords nor Labels",
            "NewsBot:Topics:5:Keywords:1 ' -- ' has no letters or digits",
            "NewsBot:Topics:5:Keywords:2 '' has no letters or digits",
            "NewsBot:Topics:5:Labels:0 is empty",
            "NewsBot:Topics:6:Name '-leading' must be lowercase letters, digits and '-'",
        ],
            messages);
    }

    [Fact]
    public void Validate_rejects_a_keyword_word_too_long_to_match()
    {
        var messages = TopicOptions.Validate([Topic("long", [new string('a', Stemmer.MaxWordLength + 1)])], "S").ToList();

        Assert.Equal([$"S:0:Keywords:0 '{new string('a', Stemmer.MaxWordLength + 1)}' has a word longer than 64 characters"], messages);
    }

    [Fact]
    public void Defaults_are_valid_and_cover_the_blog_topics()
    {
        Assert.Empty(TopicOptions.Validate(TopicDefaults.All, TopicOptions.Section));

        var names = new TopicMatcher(TopicDefaults.All).Names;
        foreach (var expected in new[] { "sanctions", "nuclear", "north-korea", "russia", "ukraine", "japan-politics", "abduction", "treaties", "china", "local-autonomy", "defense" })
        {
            Assert.Contains(expected, names);
        }
    }

    [Theory]
    [InlineData("Cabinet approves embargo on Pyongyang", "", "sanctions,north-korea,japan-politics")]
    [InlineData("Request for a final disposal site", "Two towns in Hokkaido accepted a literature survey.", "nuclear")]
    [InlineData("Families of abductees meet the Prime Minister", "", "japan-politics,abduction")]
    [InlineData("Governor opposes the base", "The prefectural assembly voted against the plan.", "local-autonomy")]
    [InlineData("A note on cherry blossoms", "Nothing about politics here.", "")]
    public void Defaults_tag_typical_posts(string title, string text, string expected)
    {
        var matcher = new TopicMatcher(TopicDefaults.All);

        Assert.Equal(expected, string.Join(',', matcher.Match(title, text, [])));
    }

    [SkippableFact]
    public void Defaults_tag_the_sample_post_with_russia_and_north_korea()
    {
        var path = Path.GetFullPath(Path.Combine(TestPaths.RepoRoot, "..", "shared", "seed", "sample-post.txt"));
        if (!File.Exists(path) && TestPaths.IsCi)
        {
            throw new InvalidOperationException($"CI=true but the sample post is missing at {path}");
        }

        Skip.IfNot(File.Exists(path), $"sample post not found at {path}");
        var lines = File.ReadAllLines(path);

        var topics = new TopicMatcher(TopicDefaults.All).Match(lines[0], string.Join('\n', lines.Skip(1)), []);

        Assert.Contains("russia", topics);
        Assert.Contains("north-korea", topics);
        Assert.Contains("sanctions", topics);
        Assert.DoesNotContain("china", topics);
    }
}
