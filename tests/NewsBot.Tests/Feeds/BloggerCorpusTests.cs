using System.Text.Json;

using NewsBot.Feeds;

using Xunit.Abstractions;

namespace NewsBot.Tests.Feeds;

/// <summary>Blogger and large real feeds against corpus/blogger and corpus/large EXPECTED_FACTS.json and rss-parser's expected JSON.</summary>
public class BloggerCorpusTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void BloggerFacts_AllMatch()
    {
        var root = TestPaths.RequireCorpus("blogger");
        using var facts = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(root, "EXPECTED_FACTS.json")));
        var tally = new ConformanceTally();
        foreach (var entry in facts.RootElement.GetProperty("feeds").EnumerateObject())
        {
            var folder = Path.GetDirectoryName(entry.Name)!;
            var fact = entry.Value;
            var feed = FeedParser.Parse(File.ReadAllBytes(Path.Combine(root, entry.Name)));
            tally.Check(folder, entry.Name + " format", fact.GetProperty("format").GetString(), feed.Type.ToString().ToLowerInvariant());
            tally.Check(folder, entry.Name + " feed_id", fact.GetProperty("feed_id").GetString(), feed.Id);
            tally.Check(folder, entry.Name + " title", fact.GetProperty("title").GetString(), feed.Title);
            tally.Check(folder, entry.Name + " home", fact.GetProperty("home").GetString(), feed.Link);
            tally.Check(folder, entry.Name + " next", fact.GetProperty("next").GetString(), feed.NextLink);
            tally.Check(folder, entry.Name + " entries", fact.GetProperty("entries").GetInt32(), feed.Items.Count);
            var first = fact.GetProperty("first_entry");
            var item = feed.Items[0];
            tally.Check(folder, entry.Name + " first id", first.GetProperty("id").GetString(), item.Id);
            tally.Check(folder, entry.Name + " first title", first.GetProperty("title").GetString(), item.Title);
            tally.Check(folder, entry.Name + " first published", DateTimeOffset.Parse(first.GetProperty("published").GetString()!), item.Published);
            tally.Check(folder, entry.Name + " first updated", DateTimeOffset.Parse(first.GetProperty("updated").GetString()!), item.Updated);
            tally.Check(folder, entry.Name + " first link", first.GetProperty("link").GetString(), item.Url);
            var labels = first.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!).Order(StringComparer.Ordinal);
            tally.Check(folder, entry.Name + " first labels", string.Join("|", labels), string.Join("|", item.Labels.Order(StringComparer.Ordinal)));
        }

        tally.Print(output);
        Assert.Equal(36, tally.Applicable);
        Assert.Equal(tally.Applicable, tally.Passed);
    }

    [SkippableFact]
    public void ElMonitorroPost_UsesAlternateLink()
    {
        var path = Path.Combine(TestPaths.RequireCorpus("blogger"), "el_monitorro", "atom_feed_alternat_link.xml");
        var feed = FeedParser.Parse(File.ReadAllBytes(path));

        Assert.NotEmpty(feed.Items);
        foreach (var item in feed.Items)
        {
            var alternate = item.Links.First(l => l.Rel == "alternate");
            Assert.Equal(alternate.Href, item.Url);
        }
    }

    [SkippableFact]
    public void LargeFacts_AllMatch()
    {
        var root = TestPaths.RequireCorpus("large");
        var tally = new ConformanceTally();
        var giantbomb = FeedParser.Parse(File.ReadAllBytes(Path.Combine(root, "rss-parser", "giantbomb-podcast.rss")));
        tally.Check("rss-parser", "items", 730, giantbomb.Items.Count);
        tally.Check("rss-parser", "items[0].title", "Giant Bombcast 603: Call of Tuesday", giantbomb.Items[0].Title);
        tally.Check("rss-parser", "every item has an enclosure", true, giantbomb.Items.All(i => i.Links.Any(l => l.Rel == "enclosure")));
        tally.Check("rss-parser", "every item has a date", true, giantbomb.Items.All(i => i.Published is not null));

        var yakubin = FeedParser.Parse(File.ReadAllBytes(Path.Combine(root, "netnewswire", "yakubin.atom")));
        tally.Check("netnewswire", "feed_url", "https://yakubin.com/notes/atom.xml", yakubin.Links.FirstOrDefault(l => l.Rel == "self")?.Href);
        tally.Check("netnewswire", "homePageURL", "https://yakubin.com/notes", yakubin.Link);
        tally.Check("netnewswire", "entries", 12, yakubin.Items.Count);
        tally.Check("netnewswire", "entries[0].title", "Thoughts about Prolog", yakubin.Items[0].Title);
        // The entry links are relative ("/notes/..."): resolved against the feed's self link.
        tally.Check("netnewswire", "entries[0].url", "https://yakubin.com/notes/thoughts-about-prolog.html", yakubin.Items[0].Url);
        // 11 of the 12 entries carry <content type="html">; the twelfth has none.
        tally.Check("netnewswire", "entries with content", 11, yakubin.Items.Count(i => i.ContentHtml?.StartsWith("<p>", StringComparison.Ordinal) == true));

        tally.Print(output);
        Assert.Equal(tally.Applicable, tally.Passed);
    }

    [SkippableFact]
    public void RssParserExpected_TitlesLinksIdsDatesMatch()
    {
        var tally = new ConformanceTally();
        foreach (var folder in new[] { "blogger/rss-parser", "large/rss-parser" })
        {
            var root = TestPaths.RequireCorpus(folder);
            foreach (var expectedPath in Directory.GetFiles(root, "*.expected.json").Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(expectedPath).Replace(".expected.json", "", StringComparison.Ordinal);
                var source = Directory.GetFiles(root, name + ".*").Single(p => !p.EndsWith(".json", StringComparison.Ordinal));
                var feed = FeedParser.Parse(File.ReadAllBytes(source));
                using var expected = JsonDocument.Parse(File.ReadAllBytes(expectedPath));
                var e = expected.RootElement.GetProperty("feed");
                tally.Check(folder, name + " title", e.GetProperty("title").GetString(), feed.Title);
                tally.Check(folder, name + " link", e.GetProperty("link").GetString(), feed.Link);
                var items = e.GetProperty("items");
                tally.Check(folder, name + " item count", items.GetArrayLength(), feed.Items.Count);
                var i = 0;
                foreach (var expectedItem in items.EnumerateArray().Take(feed.Items.Count))
                {
                    var item = feed.Items[i++];
                    var where = $"{name} items[{i - 1}]";
                    // rss-parser keeps the surrounding whitespace of titles; NewsBot trims them.
                    tally.Check(folder, where + " title", ReadText(expectedItem, "title")?.Trim(), item.Title);
                    tally.Check(folder, where + " link", ReadText(expectedItem, "link"), item.Url);
                    tally.Check(folder, where + " id", ReadText(expectedItem, "id") ?? ReadText(expectedItem, "guid"), item.Id);
                    var isoDate = ReadText(expectedItem, "isoDate");
                    tally.Check(folder, where + " date", isoDate is null ? null : DateTimeOffset.Parse(isoDate), item.Published);
                }
            }
        }

        tally.Print(output);
        Assert.True(tally.Applicable > 2000, $"only {tally.Applicable} facts compared");
        Assert.Equal(tally.Applicable, tally.Passed);
    }

    private static string? ReadText(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
