using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;

using NewsBot.Feeds;
using NewsBot.Posts;
using NewsBot.Tests.Storage;

using Xunit.Abstractions;

namespace NewsBot.Tests.Posts;

public sealed class PostStoreSpeedTests(ITestOutputHelper output)
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    /// <summary>The whole ingest of the 730-item feed has 250 ms; storing is only part of it.</summary>
    [SkippableFact]
    public async Task SaveAsync_730CorpusPostsIntoEmptyDatabase_FitsTheIngestBudget()
    {
        var posts = ReadRssItems(TestPaths.RequireCorpus("large/rss-parser/giantbomb-podcast.rss"));
        Assert.Equal(730, posts.Count);
        // The first save pays JIT and native library loading, which a running server has paid already; the best of
        // the rest is the cost without the noise of other processes sharing the machine.
        var runs = new List<double>();
        for (var run = 0; run < 4; run++)
        {
            using var other = new TempDatabase();
            var (time, _, _) = await SaveIntoEmptyDatabaseAsync(other, posts);
            runs.Add(time.TotalMilliseconds);
        }

        using var temp = new TempDatabase();
        var (elapsed, result, store) = await SaveIntoEmptyDatabaseAsync(temp, posts);
        runs.Add(elapsed.TotalMilliseconds);
        var best = runs.Skip(1).Min();

        output.WriteLine($"730 posts into an empty database: {string.Join(", ", runs.Select(r => r.ToString("F1", CultureInfo.InvariantCulture)))} ms; best warm {best:F1} ms");
        Assert.Equal(730, result.InsertedIds.Count);
        Assert.Equal(730, result.InsertedIds.Distinct().Count());
        Assert.InRange(best, 0, 250);
        Assert.Equal("Giant Bombcast 603: Call of Tuesday", (await store.GetAsync(result.InsertedIds[0], Ct))!.Title);
        Assert.NotEmpty(await store.SearchAsync("bombcast", 5, Ct));
    }

    private static async Task<(TimeSpan Elapsed, SaveResult Result, PostStore Store)> SaveIntoEmptyDatabaseAsync(
        TempDatabase temp, IReadOnlyList<NewPost> posts)
    {
        var db = await temp.OpenMigratedAsync();
        await new FeedStateStore(db).EnsureAsync("giantbomb", "https://www.giantbomb.com/podcast-xml/giant-bombcast/", Ct);
        var store = new PostStore(db, TimeProvider.System);

        var clock = Stopwatch.StartNew();
        var result = await store.SaveAsync("giantbomb", posts, Ct);
        clock.Stop();
        return (clock.Elapsed, result, store);
    }

    /// <summary>RSS 2.0 items as the refresh flow would hand them over (no parser dependency in this test).</summary>
    private static List<NewPost> ReadRssItems(string path)
    {
        var items = XDocument.Load(path).Descendants("item");
        var posts = new List<NewPost>();
        foreach (var item in items)
        {
            var description = (string?)item.Element("description") ?? "";
            var published = DateTimeOffset.TryParse((string?)item.Element("pubDate"), out var date) ? date : (DateTimeOffset?)null;
            posts.Add(new NewPost(
                Key: (string?)item.Element("guid") ?? (string)item.Element("link")!,
                Url: (string?)item.Element("link"),
                Title: (string?)item.Element("title") ?? "",
                Author: null,
                Published: published,
                Updated: null,
                Labels: item.Elements("category").Select(c => c.Value).ToList(),
                Topics: ["games"],
                ContentHtml: description,
                Summary: description.Length > 300 ? description[..300] : description,
                ContentHash: Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(description)))));
        }

        return posts;
    }
}
