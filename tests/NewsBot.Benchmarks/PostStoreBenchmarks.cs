using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;

using BenchmarkDotNet.Attributes;

using Microsoft.Data.Sqlite;

using NewsBot.Feeds;
using NewsBot.Posts;
using NewsBot.Storage;

namespace NewsBot.Benchmarks;

/// <summary>
/// Storing the 730 items of the corpus' giantbomb podcast feed into an empty database, FTS included: the store's
/// share of the 250 ms ingest budget. Each invocation gets a fresh file.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1, unrollFactor: 1)]
public class PostStoreBenchmarks
{
    private List<NewPost> _posts = [];
    private string _directory = "";
    private PostStore? _store;

    [GlobalSetup]
    public void ReadCorpus()
    {
        var path = Path.Combine(FindRepoRoot(), "..", "shared", "corpus", "large", "rss-parser", "giantbomb-podcast.rss");
        _posts = XDocument.Load(path).Descendants("item").Select(item =>
        {
            var description = (string?)item.Element("description") ?? "";
            return new NewPost(
                Key: (string?)item.Element("guid") ?? (string)item.Element("link")!,
                Url: (string?)item.Element("link"),
                Title: (string?)item.Element("title") ?? "",
                Author: null,
                Published: DateTimeOffset.TryParse((string?)item.Element("pubDate"), out var date) ? date : null,
                Updated: null,
                Labels: [],
                Topics: ["games"],
                ContentHtml: description,
                Summary: description.Length > 300 ? description[..300] : description,
                ContentHash: Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(description))));
        }).ToList();
    }

    [IterationSetup]
    public void CreateEmptyDatabase()
    {
        _directory = Path.Combine(Path.GetTempPath(), "newsbot-bench", Guid.NewGuid().ToString("N"));
        var db = Db.Sqlite(Path.Combine(_directory, "newsbot.db"));
        new Migrator(db).MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
        new FeedStateStore(db).EnsureAsync("giantbomb", "https://www.giantbomb.com/podcast-xml/giant-bombcast/", CancellationToken.None)
            .GetAwaiter().GetResult();
        _store = new PostStore(db, TimeProvider.System);
    }

    [Benchmark]
    public Task<SaveResult> SaveCorpusFeed() => _store!.SaveAsync("giantbomb", _posts, CancellationToken.None);

    [IterationCleanup]
    public void DeleteDatabase()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NewsBot.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("NewsBot.sln not found above " + AppContext.BaseDirectory);
    }
}
