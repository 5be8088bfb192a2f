using System.Xml.Linq;

using AngleSharp.Html.Parser;

using BenchmarkDotNet.Attributes;

using NewsBot.Topics;

namespace NewsBot.Benchmarks.Topics;

/// <summary>Tagging a refresh's worth of posts: the bundled sample feed repeated to 730 posts, and one 50 KB body.</summary>
[MemoryDiagnoser]
public class TopicMatcherBenchmarks
{
    private static readonly XNamespace Atom = "http://www.w3.org/2005/Atom";

    private readonly TopicMatcher matcher = new(TopicDefaults.All);
    private readonly List<(string Title, string Text, List<string> Labels)> posts = [];
    private string longText = "";

    [GlobalSetup]
    public void LoadPosts()
    {
        var feed = XDocument.Load(Path.Combine(AppContext.BaseDirectory, "Feeds", "Sample", "sample-feed.xml"));
        var parser = new HtmlParser();
        var entries = feed.Root!.Elements(Atom + "entry")
            .Select(e => (
                Title: (string)e.Element(Atom + "title")!,
                Text: parser.ParseDocument((string)e.Element(Atom + "content")!).Body!.TextContent,
                Labels: e.Elements(Atom + "category").Select(c => (string)c.Attribute("term")!).ToList()))
            .ToList();
        for (var i = 0; i < 730; i++)
        {
            posts.Add(entries[i % entries.Count]);
        }

        longText = string.Join('\n', Enumerable.Repeat(string.Join('\n', entries.Select(e => e.Text)), 3));
    }

    [Benchmark]
    public int Match730SamplePosts()
    {
        var topics = 0;
        foreach (var (title, text, labels) in posts)
        {
            topics += matcher.Match(title, text, labels).Count;
        }

        return topics;
    }

    [Benchmark]
    public int MatchOneLongPost() => matcher.Match("Minutes", longText, []).Count;
}
