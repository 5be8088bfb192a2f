using NewsBot.Feeds;
using NewsBot.Posts;
using NewsBot.Storage;
using NewsBot.Tests.Storage;

namespace NewsBot.Tests.Posts;

public abstract class PostStoreTests(string provider) : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 9, 0, 0, TimeSpan.Zero);

    private readonly TempDatabase _temp = new(provider);
    private readonly ManualTime _time = new(Start);

    public void Dispose() => _temp.Dispose();

    [SkippableFact]
    public async Task SaveAsync_ReturnsOnlyTheIdsOfNewPosts()
    {
        var store = await CreateStoreAsync("blog");
        var first = await store.SaveAsync("blog", [NewPost("a"), NewPost("b")], Ct);

        var second = await store.SaveAsync("blog", [NewPost("a"), NewPost("c"), NewPost("b")], Ct);

        Assert.Equal(2, first.InsertedIds.Count);
        var c = Assert.Single(second.InsertedIds);
        Assert.DoesNotContain(c, first.InsertedIds);
        Assert.Equal("c", (await store.GetAsync(c, Ct))!.Key);
        Assert.Equal(0, second.Updated);
        Assert.Equal(2, second.Unchanged);
        Assert.Equal(3, await store.CountAsync(Ct));
    }

    [SkippableFact]
    public async Task SaveAsync_SamePostsAfterRestart_InsertsNothing()
    {
        var store = await CreateStoreAsync("blog");
        NewPost[] posts = [NewPost("a"), NewPost("b", published: null), NewPost("c")];
        await store.SaveAsync("blog", posts, Ct);

        var restarted = new PostStore(await _temp.OpenMigratedAsync(), _time);
        var result = await restarted.SaveAsync("blog", posts, Ct);

        Assert.Empty(result.InsertedIds);
        Assert.Equal(0, result.Updated);
        Assert.Equal(3, result.Unchanged);
        Assert.Equal(3, await restarted.CountAsync(Ct));
    }

    [SkippableFact]
    public async Task SaveAsync_SameKeyFromAnotherFeed_IsStoredOnceAndNotEdited()
    {
        var store = await CreateStoreAsync("blog", "planet");
        var original = await store.SaveAsync("blog", [NewPost("shared", title: "From the blog")], Ct);

        var result = await store.SaveAsync("planet", [NewPost("shared", title: "Re-syndicated", hash: "other")], Ct);

        Assert.Empty(result.InsertedIds);
        Assert.Equal(0, result.Updated);
        Assert.Equal(1, result.Unchanged);
        var stored = (await store.GetAsync(original.InsertedIds[0], Ct))!;
        Assert.Equal("blog", stored.Feed);
        Assert.Equal("From the blog", stored.Title);
    }

    [SkippableFact]
    public async Task SaveAsync_NewContentHash_UpdatesTheRowInPlace()
    {
        var store = await CreateStoreAsync("blog");
        var id = (await store.SaveAsync("blog", [NewPost("a", title: "Draft", content: "<p>walrus</p>", topics: ["old"])], Ct)).InsertedIds[0];
        _time.Now = Start.AddHours(2);
        var edited = NewPost("a", title: "Final", content: "<p>narwhal</p>", hash: "hash-2", topics: ["new"], labels: ["Edited"]);

        var result = await store.SaveAsync("blog", [edited], Ct);

        Assert.Empty(result.InsertedIds);
        Assert.Equal(1, result.Updated);
        Assert.Equal(0, result.Unchanged);
        Assert.Equal(1, await store.CountAsync(Ct));
        var stored = (await store.GetAsync(id, Ct))!;
        Assert.Equal("Final", stored.Title);
        Assert.Equal("<p>narwhal</p>", stored.ContentHtml);
        Assert.Equal(["new"], stored.Topics);
        Assert.Equal(["Edited"], stored.Labels);
        Assert.Equal(Start, stored.FirstSeen);
        Assert.Equal([id], (await store.SearchAsync("narwhal", 10, Ct)).Select(p => p.Id));
        Assert.Empty(await store.SearchAsync("walrus", 10, Ct));
        Assert.Empty(await store.LatestAsync(10, "old", Ct));
    }

    [SkippableFact]
    public async Task SaveAsync_NewUpdatedDate_UpdatesTheRowEvenWithTheSameHash()
    {
        var store = await CreateStoreAsync("blog");
        var id = (await store.SaveAsync("blog", [NewPost("a", updated: Start.AddDays(-1))], Ct)).InsertedIds[0];
        var newer = Start.AddMinutes(-5);

        var result = await store.SaveAsync("blog", [NewPost("a", title: "Retitled", updated: newer)], Ct);
        var again = await store.SaveAsync("blog", [NewPost("a", title: "Retitled", updated: newer)], Ct);

        Assert.Empty(result.InsertedIds);
        Assert.Equal(1, result.Updated);
        Assert.Equal(newer, (await store.GetAsync(id, Ct))!.Updated);
        Assert.Equal("Retitled", (await store.GetAsync(id, Ct))!.Title);
        Assert.Equal(0, again.Updated);
        Assert.Equal(1, again.Unchanged);
    }

    [SkippableFact]
    public async Task SaveAsync_FeedNeverEnsured_ThrowsNamingTheFeed()
    {
        var store = await CreateStoreAsync("blog");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => store.SaveAsync("unknown-feed", [NewPost("a")], Ct));

        Assert.Contains("'unknown-feed'", error.Message);
        Assert.Equal(0, await store.CountAsync(Ct));
    }

    [SkippableFact]
    public async Task SaveAsync_TwoFeedsAtOnce_BothCommit()
    {
        var store = await CreateStoreAsync("one", "two");
        var ones = Enumerable.Range(0, 200).Select(i => NewPost($"one-{i}")).ToList();
        var twos = Enumerable.Range(0, 200).Select(i => NewPost($"two-{i}")).ToList();

        var results = await Task.WhenAll(
            Task.Run(() => store.SaveAsync("one", ones, Ct)),
            Task.Run(() => store.SaveAsync("two", twos, Ct)));

        Assert.All(results, r => Assert.Equal(200, r.InsertedIds.Count));
        Assert.Equal(400, await store.CountAsync(Ct));
    }

    [SkippableFact]
    public async Task GetAsync_ReadsBackEveryField()
    {
        var store = await CreateStoreAsync("blog");
        var post = new NewPost(
            Key: "tag:blogger.com,1999:blog-1.post-2",
            Url: "https://example.blogspot.com/2026/11/post.html",
            Title: "Ünïcode “title”",
            Author: "Jane",
            Published: new DateTimeOffset(2026, 11, 27, 10, 30, 15, 123, TimeSpan.FromHours(2)),
            Updated: new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero),
            Labels: ["Rust", "C#", "label with \"quotes\""],
            Topics: ["security", "languages", "security"],
            ContentHtml: "<p>Hello <b>world</b></p>",
            Summary: "Hello world",
            ContentHash: "abc");

        var id = (await store.SaveAsync("blog", [post], Ct)).InsertedIds[0];
        var stored = await store.GetAsync(id, Ct);

        Assert.NotNull(stored);
        Assert.Equal(id, stored.Id);
        Assert.Equal("blog", stored.Feed);
        Assert.Equal(post.Key, stored.Key);
        Assert.Equal(post.Url, stored.Url);
        Assert.Equal(post.Title, stored.Title);
        Assert.Equal(post.Author, stored.Author);
        Assert.Equal(post.Published, stored.Published);
        Assert.Equal(TimeSpan.Zero, stored.Published!.Value.Offset);
        Assert.Equal(post.Updated, stored.Updated);
        Assert.Equal(post.Labels, stored.Labels);
        Assert.Equal(["languages", "security"], stored.Topics);
        Assert.Equal(post.ContentHtml, stored.ContentHtml);
        Assert.Equal(post.Summary, stored.Summary);
        Assert.Equal(Start, stored.FirstSeen);
        Assert.Null(await store.GetAsync(id + 1000, Ct));
    }

    [SkippableFact]
    public async Task GetManyAsync_KeepsTheAskedOrderAndSkipsMissingIds()
    {
        var store = await CreateStoreAsync("blog");
        var ids = (await store.SaveAsync("blog", [NewPost("a"), NewPost("b"), NewPost("c")], Ct)).InsertedIds;

        var posts = await store.GetManyAsync([ids[2], 999_999, ids[0]], Ct);

        Assert.Equal(["c", "a"], posts.Select(p => p.Key));
        Assert.Empty(await store.GetManyAsync([], Ct));
    }

    [SkippableFact]
    public async Task LatestAsync_NewestFirstByPublishedElseFirstSeen()
    {
        var store = await CreateStoreAsync("blog");
        await store.SaveAsync("blog", [NewPost("old", published: Start.AddDays(-3)), NewPost("new", published: Start.AddDays(-1))], Ct);
        _time.Now = Start.AddDays(-2);
        await store.SaveAsync("blog", [NewPost("undated", published: null)], Ct);

        var latest = await store.LatestAsync(10, null, Ct);
        var top2 = await store.LatestAsync(2, null, Ct);

        Assert.Equal(["new", "undated", "old"], latest.Select(p => p.Key));
        Assert.Equal(["new", "undated"], top2.Select(p => p.Key));
    }

    [SkippableFact]
    public async Task LatestAsync_WithTopic_ReturnsOnlyPostsTaggedWithIt()
    {
        var store = await CreateStoreAsync("blog");
        await store.SaveAsync("blog",
        [
            NewPost("rust-old", published: Start.AddDays(-2), topics: ["rust"]),
            NewPost("go", published: Start.AddDays(-1), topics: ["go"]),
            NewPost("rust-new", published: Start.AddHours(-1), topics: ["rust", "security"]),
            NewPost("none", published: Start),
        ], Ct);

        var rust = await store.LatestAsync(10, "rust", Ct);

        Assert.Equal(["rust-new", "rust-old"], rust.Select(p => p.Key));
        Assert.Equal(["rust", "security"], rust[0].Topics);
        Assert.Empty(await store.LatestAsync(10, "cobol", Ct));
        Assert.Equal(4, (await store.LatestAsync(10, null, Ct)).Count);
    }

    [SkippableFact]
    public async Task SearchAsync_RanksTitleMatchAboveBodyMatch()
    {
        var store = await CreateStoreAsync("blog");
        // The title match is saved first, so it has the lower id: only ranking can put it first.
        var ids = (await store.SaveAsync("blog",
        [
            NewPost("title", title: "Telescope mirrors explained", content: "<p>Grinding glass by hand.</p>"),
            NewPost("body", title: "Weekend notes", content: "<p>Cleaned the telescope and went to bed.</p>"),
            NewPost("neither", title: "Cooking", content: "<p>Soup.</p>"),
        ], Ct)).InsertedIds;

        var found = await store.SearchAsync("telescope", 10, Ct);

        Assert.Equal([ids[0], ids[1]], found.Select(p => p.Id));
    }

    [SkippableFact]
    public async Task SearchAsync_StemsWords()
    {
        var store = await CreateStoreAsync("blog");
        await store.SaveAsync("blog",
        [
            NewPost("one", title: "A new sanction on exports"),
            NewPost("many", title: "Weekly digest", content: "<p>The sanctioned firms appealed.</p>"),
            NewPost("other", title: "Gardening"),
        ], Ct);

        var found = await store.SearchAsync("sanctions", 10, Ct);

        Assert.Equal(["many", "one"], found.Select(p => p.Key).Order());
    }

    [SkippableFact]
    public async Task SearchAsync_NeedsEveryWordAndIgnoresHtmlMarkup()
    {
        var store = await CreateStoreAsync("blog");
        await store.SaveAsync("blog",
        [
            NewPost("both", content: "<p>Red <a href=\"https://example.org/x\">panda</a> sighting</p>"),
            NewPost("one", content: "<p>Red kite</p>"),
        ], Ct);

        Assert.Equal(["both"], (await store.SearchAsync("red panda", 10, Ct)).Select(p => p.Key));
        Assert.Empty(await store.SearchAsync("href", 10, Ct));
        Assert.Empty(await store.SearchAsync("example", 10, Ct));
        Assert.Single(await store.SearchAsync("red", 1, Ct));
    }

    [SkippableTheory]
    [InlineData("\"")]
    [InlineData("*")]
    [InlineData("(")]
    [InlineData("")]
    [InlineData("   ")]
    public async Task SearchAsync_QueryWithoutWords_ReturnsNothing(string words)
    {
        var store = await CreateStoreAsync("blog");
        await store.SaveAsync("blog", [NewPost("a", title: "Anything at all or nothing")], Ct);

        Assert.Empty(await store.SearchAsync(words, 10, Ct));
    }

    [SkippableTheory]
    [InlineData("AND OR", "logic")]
    [InlineData("-xylophone", "music")]
    [InlineData("\"xylophone", "music")]
    [InlineData("xylo*", null)]
    [InlineData("(NOT music", null)]
    [InlineData("title:xylophone", null)]
    [InlineData("NEAR(and or)", "logic")]
    public async Task SearchAsync_HostileQueries_AreTakenAsPlainWords(string words, string? expectedKey)
    {
        var store = await CreateStoreAsync("blog");
        await store.SaveAsync("blog",
        [
            NewPost("logic", title: "Gates: and, or, near"),
            NewPost("music", title: "Xylophone practice"),
        ], Ct);

        var found = await store.SearchAsync(words, 10, Ct);

        if (expectedKey is null)
        {
            Assert.Empty(found);
        }
        else
        {
            Assert.Equal([expectedKey], found.Select(p => p.Key));
        }
    }

    private async Task<PostStore> CreateStoreAsync(params string[] feeds)
    {
        var db = await _temp.OpenMigratedAsync();
        var feedStates = new FeedStateStore(db);
        foreach (var feed in feeds)
        {
            await feedStates.EnsureAsync(feed, $"https://{feed}.example.org/feed", Ct);
        }

        return new PostStore(db, _time);
    }

    private static NewPost NewPost(
        string key,
        string? title = null,
        string content = "<p>Body</p>",
        string hash = "hash-1",
        IReadOnlyList<string>? topics = null,
        IReadOnlyList<string>? labels = null,
        DateTimeOffset? updated = null,
        DateTimeOffset? published = default)
    {
        return new NewPost(
            Key: key,
            Url: $"https://blog.example.org/{key}",
            Title: title ?? $"Post {key}",
            Author: null,
            Published: published,
            Updated: updated,
            Labels: labels ?? [],
            Topics: topics ?? [],
            ContentHtml: content,
            Summary: "",
            ContentHash: hash);
    }
}

public sealed class PostStoreSqliteTests() : PostStoreTests(Db.SqliteProvider);

public sealed class PostStorePostgresqlTests() : PostStoreTests(Db.PostgresqlProvider);
