using System.Xml.Linq;

using BenchmarkDotNet.Attributes;

using NewsBot.Posts;

namespace NewsBot.Benchmarks.Posts;

/// <summary>
/// What the refresh flow does per entry (sanitize, summarize, hash) over the large corpus feeds: the 730-item
/// podcast feed must fit the 250 ms ingest budget together with parsing and storing.
/// </summary>
[MemoryDiagnoser]
public class SanitizeBenchmarks
{
    private (string Title, string Html, Uri? Base)[] _podcastItems = [];
    private (string Title, string Html, Uri? Base)[] _fullContentEntries = [];
    private (string Title, string Html, Uri? Base)[] _bloggerEntries = [];
    private (string Title, string Html, Uri? Base)[] _redditEntries = [];

    [GlobalSetup]
    public void LoadFeeds()
    {
        var corpus = FindCorpus();
        _podcastItems = ReadEntries(Path.Combine(corpus, "large/rss-parser/giantbomb-podcast.rss"));
        _fullContentEntries = ReadEntries(Path.Combine(corpus, "large/netnewswire/yakubin.atom"));
        _bloggerEntries = ReadEntries(Path.Combine(corpus, "blogger/rss-parser/feedburner.atom"));
        _redditEntries = ReadEntries(Path.Combine(corpus, "feed-rs/atom/atom_mediarss_reddit_1.xml"));
    }

    [Benchmark]
    public int Podcast730Items() => IngestAll(_podcastItems);

    [Benchmark]
    public int FullContent12Entries() => IngestAll(_fullContentEntries);

    [Benchmark]
    public int Blogger25Entries() => IngestAll(_bloggerEntries);

    [Benchmark]
    public int Reddit25Entries() => IngestAll(_redditEntries);

    private static int IngestAll((string Title, string Html, Uri? Base)[] entries)
    {
        var total = 0;
        foreach (var (title, html, baseUri) in entries)
        {
            var content = ContentSanitizer.SanitizeWithSummary(html, baseUri);
            total += content.Html.Length + content.Summary.Length + ContentSanitizer.HashContent(title, content.Html).Length;
        }

        return total;
    }

    private static (string Title, string Html, Uri? Base)[] ReadEntries(string path)
    {
        var entries = XDocument.Load(path).Descendants().Where(e => e.Name.LocalName is "item" or "entry");
        return entries.Select(entry =>
        {
            string Child(params string[] names) =>
                names.Select(n => entry.Elements().FirstOrDefault(e => e.Name.LocalName == n)?.Value).FirstOrDefault(v => v is not null) ?? "";
            var link = entry.Elements().FirstOrDefault(e => e.Name.LocalName == "link");
            var href = (string?)link?.Attribute("href") ?? link?.Value;
            return (Child("title"), Child("encoded", "content", "description", "summary"), Uri.TryCreate(href, UriKind.Absolute, out var uri) ? uri : null);
        }).ToArray();
    }

    private static string FindCorpus()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var corpus = Path.Combine(dir.FullName, "shared", "corpus");
            if (Directory.Exists(corpus))
            {
                return corpus;
            }
        }

        throw new DirectoryNotFoundException($"shared/corpus not found above {AppContext.BaseDirectory}");
    }
}
