using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;

using AngleSharp.Html.Parser;

using NewsBot.Topics;

namespace NewsBot.Tests.Feeds;

/// <summary>The bundled fictional Blogger feed, read with System.Xml only (independent of the app's parser).</summary>
public partial class SampleFeedTests
{
    private static readonly XNamespace Atom = "http://www.w3.org/2005/Atom";
    private static readonly XNamespace OpenSearch = "http://a9.com/-/spec/opensearchrss/1.0/";
    private const string BloggerLabelScheme = "http://www.blogger.com/atom/ns#";

    // The csproj copies Feeds/Sample/*.xml next to the app; reading it from the test output checks that copy too.
    private static readonly string FeedPath = Path.Combine(AppContext.BaseDirectory, "Feeds", "Sample", "sample-feed.xml");

    private static XDocument LoadFeed()
    {
        using var reader = XmlReader.Create(FeedPath, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit });
        return XDocument.Load(reader);
    }

    private static string PlainText(string html) => new HtmlParser().ParseDocument(html).Body!.TextContent;

    private static List<string> Labels(XElement entry) =>
    [
        .. entry.Elements(Atom + "category")
            .Where(c => (string?)c.Attribute("scheme") == BloggerLabelScheme)
            .Select(c => (string)c.Attribute("term")!),
    ];

    [Fact]
    public void Sample_feed_is_a_well_formed_blogger_atom_feed()
    {
        var feed = LoadFeed().Root!;
        var entries = feed.Elements(Atom + "entry").ToList();

        Assert.Equal(Atom + "feed", feed.Name);
        Assert.Matches(BlogId(), (string)feed.Element(Atom + "id")!);
        Assert.Equal(17, entries.Count);
        Assert.Equal(entries.Count, (int)feed.Element(OpenSearch + "totalResults")!);
        Assert.Equal("https://tokyo-security-notes.example.org/", feed.Elements(Atom + "link").Single(l => (string?)l.Attribute("rel") == "alternate").Attribute("href")!.Value);
    }

    [Fact]
    public void Sample_entries_have_blogger_ids_dates_links_and_html_content()
    {
        var feed = LoadFeed().Root!;
        var blogId = (string)feed.Element(Atom + "id")!;
        var entries = feed.Elements(Atom + "entry").ToList();

        Assert.Equal(entries.Count, entries.Select(e => (string)e.Element(Atom + "id")!).Distinct().Count());
        DateTimeOffset? previous = null;
        foreach (var entry in entries)
        {
            var id = (string)entry.Element(Atom + "id")!;
            Assert.Matches(PostId(), id);
            Assert.StartsWith(blogId + ".post-", id);

            // RFC 4287 §3.3: date-time with an offset; Blogger writes the blog's zone, here +09:00.
            var published = DateTimeOffset.Parse((string)entry.Element(Atom + "published")!, CultureInfo.InvariantCulture);
            var updated = DateTimeOffset.Parse((string)entry.Element(Atom + "updated")!, CultureInfo.InvariantCulture);
            Assert.Equal(TimeSpan.FromHours(9), published.Offset);
            Assert.True(updated >= published, id);
            Assert.True(previous is null || published < previous, "entries are newest first: " + id);
            previous = published;

            var links = entry.Elements(Atom + "link").ToList();
            var alternate = links.Single(l => (string?)l.Attribute("rel") == "alternate");
            Assert.StartsWith("https://tokyo-security-notes.example.org/", (string)alternate.Attribute("href")!);
            Assert.EndsWith(".html", (string)alternate.Attribute("href")!);
            Assert.Single(links, l => (string?)l.Attribute("rel") == "self");
            Assert.Equal(2, links.Count(l => (string?)l.Attribute("rel") == "replies"));
            Assert.Equal("Kenji Arai", (string)entry.Element(Atom + "author")!.Element(Atom + "name")!);

            var content = entry.Element(Atom + "content")!;
            Assert.Equal("html", (string)content.Attribute("type")!);
            var paragraphs = Regex.Count(content.Value, "<p>") + Regex.Count(content.Value, "<br /><br />") + (content.Value.StartsWith("<p>", StringComparison.Ordinal) ? 0 : 1);
            Assert.InRange(paragraphs, 2, 5);
            Assert.True(PlainText(content.Value).Length > 500, id);
        }
    }

    [Fact]
    public void Sample_title_with_html_special_characters_decodes_exactly()
    {
        var titles = LoadFeed().Root!.Elements(Atom + "entry").Select(e => (string)e.Element(Atom + "title")!).ToList();

        Assert.Contains("Tariffs & \"Sanctions\": <Who> Pays?", titles);
    }

    [Fact]
    public void Sample_content_is_escaped_html_with_entities_left_for_the_html_parser()
    {
        var entry = LoadFeed().Root!.Elements(Atom + "entry")
            .Single(e => (string)e.Element(Atom + "title")! == "Families of Abductees Ask for a Deadline");
        var html = entry.Element(Atom + "content")!.Value;

        Assert.Contains("&quot;without preconditions&quot;", html);
        Assert.Contains("\"without preconditions\"", PlainText(html));
    }

    [Fact]
    public void Every_sample_entry_gets_a_default_topic_and_all_defaults_are_used()
    {
        var matcher = new TopicMatcher(TopicDefaults.All);
        var used = new HashSet<string>();
        var sanctionsPosts = 0;
        foreach (var entry in LoadFeed().Root!.Elements(Atom + "entry"))
        {
            var title = (string)entry.Element(Atom + "title")!;
            var topics = matcher.Match(title, PlainText(entry.Element(Atom + "content")!.Value), Labels(entry));

            Assert.True(topics.Count > 0, "no topic for " + title);
            used.UnionWith(topics);
            sanctionsPosts += topics.Contains("sanctions") ? 1 : 0;
        }

        Assert.Equal(matcher.Names.Order(), used.Order());
        Assert.True(sanctionsPosts >= 4, $"only {sanctionsPosts} posts about sanctions");
    }

    [Fact]
    public void Some_sample_entries_have_labels_and_some_have_none()
    {
        var labelCounts = LoadFeed().Root!.Elements(Atom + "entry").Select(e => Labels(e).Count).ToList();

        Assert.Contains(0, labelCounts);
        Assert.Contains(labelCounts, c => c >= 2);
    }

    [GeneratedRegex(@"^tag:blogger\.com,1999:blog-\d+$")]
    private static partial Regex BlogId();

    [GeneratedRegex(@"^tag:blogger\.com,1999:blog-\d+\.post-\d+$")]
    private static partial Regex PostId();
}
