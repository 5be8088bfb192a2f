using NewsBot.Feeds;
using NewsBot.Storage;
using NewsBot.Tests.Storage;

namespace NewsBot.Tests.Feeds;

public abstract class FeedStateStoreTests(string provider) : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly DateTimeOffset At = new(2026, 11, 28, 10, 15, 30, 250, TimeSpan.Zero);

    private readonly TempDatabase _temp = new(provider);

    public void Dispose() => _temp.Dispose();

    [SkippableFact]
    public async Task EnsureAsync_NewFeed_StartsWithNoHistory()
    {
        var store = new FeedStateStore(await _temp.OpenMigratedAsync());

        var state = await store.EnsureAsync("blog", "https://blog.example.org/feeds/posts/default", Ct);

        Assert.Equal(
            new FeedState("blog", "https://blog.example.org/feeds/posts/default", null, null, null, null, 0, null, null, null, null, false),
            state);
        Assert.Equal(state, await store.GetAsync("blog", Ct));
        Assert.Null(await store.GetAsync("other", Ct));
    }

    [SkippableFact]
    public async Task RecordMethods_RoundTripThroughARestart()
    {
        var store = new FeedStateStore(await _temp.OpenMigratedAsync());
        await store.EnsureAsync("blog", "https://blog.example.org/feed", Ct);
        await store.RecordSuccessAsync("blog", "\"v1\"", "Fri, 27 Nov 2026 08:00:00 GMT", "The Blog", At, Ct);
        await store.RecordFailureAsync("blog", "HTTP 503 from https://blog.example.org/feed", At.AddHours(1), At.AddHours(1.5), Ct);
        await store.RecordFailureAsync("blog", "timeout after 30 s", At.AddHours(2), At.AddHours(3), Ct);
        await store.RecordPermanentUrlAsync("blog", "https://new.example.org/feed", Ct);
        await store.MarkBackfilledAsync("blog", Ct);

        var restarted = new FeedStateStore(await _temp.OpenMigratedAsync());
        var state = await restarted.GetAsync("blog", Ct);

        Assert.Equal(
            new FeedState(
                Name: "blog",
                Url: "https://blog.example.org/feed",
                PermanentUrl: "https://new.example.org/feed",
                ETag: "\"v1\"",
                LastModified: "Fri, 27 Nov 2026 08:00:00 GMT",
                Title: "The Blog",
                FailureCount: 2,
                LastError: "timeout after 30 s",
                LastPolledAt: At.AddHours(2),
                LastSuccessAt: At,
                NextAttemptAt: At.AddHours(3),
                Backfilled: true),
            state);
    }

    [SkippableFact]
    public async Task RecordSuccessAsync_AfterFailures_ResetsThemAndReplacesValidators()
    {
        var store = new FeedStateStore(await _temp.OpenMigratedAsync());
        await store.EnsureAsync("blog", "https://blog.example.org/feed", Ct);
        await store.RecordSuccessAsync("blog", "\"v1\"", "Fri, 27 Nov 2026 08:00:00 GMT", "The Blog", At, Ct);
        await store.RecordFailureAsync("blog", "HTTP 500", At.AddHours(1), At.AddHours(2), Ct);

        await store.RecordSuccessAsync("blog", "\"v2\"", null, null, At.AddHours(2), Ct);
        var state = (await store.GetAsync("blog", Ct))!;

        Assert.Equal(0, state.FailureCount);
        Assert.Null(state.LastError);
        Assert.Null(state.NextAttemptAt);
        Assert.Equal("\"v2\"", state.ETag);
        Assert.Null(state.LastModified);
        Assert.Equal("The Blog", state.Title);
        Assert.Equal(At.AddHours(2), state.LastSuccessAt);
    }

    [SkippableFact]
    public async Task RecordNotModifiedAsync_KeepsValidatorsAndClearsFailures()
    {
        var store = new FeedStateStore(await _temp.OpenMigratedAsync());
        await store.EnsureAsync("blog", "https://blog.example.org/feed", Ct);
        await store.RecordSuccessAsync("blog", "\"v1\"", "Fri, 27 Nov 2026 08:00:00 GMT", "The Blog", At, Ct);
        await store.RecordFailureAsync("blog", "HTTP 500", At.AddHours(1), At.AddHours(2), Ct);

        await store.RecordNotModifiedAsync("blog", At.AddHours(3), Ct);
        var state = (await store.GetAsync("blog", Ct))!;

        Assert.Equal("\"v1\"", state.ETag);
        Assert.Equal("Fri, 27 Nov 2026 08:00:00 GMT", state.LastModified);
        Assert.Equal(0, state.FailureCount);
        Assert.Null(state.LastError);
        Assert.Null(state.NextAttemptAt);
        Assert.Equal(At.AddHours(3), state.LastPolledAt);
        Assert.Equal(At.AddHours(3), state.LastSuccessAt);
    }

    [SkippableFact]
    public async Task EnsureAsync_SameUrl_KeepsEverything()
    {
        var store = new FeedStateStore(await _temp.OpenMigratedAsync());
        await store.EnsureAsync("blog", "https://blog.example.org/feed", Ct);
        await store.RecordSuccessAsync("blog", "\"v1\"", "Fri, 27 Nov 2026 08:00:00 GMT", "The Blog", At, Ct);
        await store.RecordPermanentUrlAsync("blog", "https://new.example.org/feed", Ct);
        var before = await store.GetAsync("blog", Ct);

        var after = await store.EnsureAsync("blog", "https://blog.example.org/feed", Ct);

        Assert.Equal(before, after);
    }

    [SkippableFact]
    public async Task EnsureAsync_ChangedUrl_ClearsPermanentUrlAndValidators()
    {
        var store = new FeedStateStore(await _temp.OpenMigratedAsync());
        await store.EnsureAsync("blog", "https://blog.example.org/feed", Ct);
        await store.RecordSuccessAsync("blog", "\"v1\"", "Fri, 27 Nov 2026 08:00:00 GMT", "The Blog", At, Ct);
        await store.RecordPermanentUrlAsync("blog", "https://new.example.org/feed", Ct);
        await store.MarkBackfilledAsync("blog", Ct);

        var state = await store.EnsureAsync("blog", "https://blog.example.org/atom.xml", Ct);

        Assert.Equal("https://blog.example.org/atom.xml", state.Url);
        Assert.Null(state.PermanentUrl);
        Assert.Null(state.ETag);
        Assert.Null(state.LastModified);
        Assert.Equal("The Blog", state.Title);
        Assert.Equal(At, state.LastSuccessAt);
        Assert.True(state.Backfilled);
    }

    [SkippableFact]
    public async Task ListAsync_ReturnsEveryFeedByName()
    {
        var store = new FeedStateStore(await _temp.OpenMigratedAsync());
        await store.EnsureAsync("zeta", "https://zeta.example.org/feed", Ct);
        await store.EnsureAsync("alpha", "https://alpha.example.org/feed", Ct);
        await store.RecordFailureAsync("zeta", "DNS failure", At, At.AddMinutes(5), Ct);

        var feeds = await store.ListAsync(Ct);

        Assert.Equal(["alpha", "zeta"], feeds.Select(f => f.Name));
        Assert.Equal([0, 1], feeds.Select(f => f.FailureCount));
    }

    [SkippableFact]
    public async Task RecordFailureAsync_UnknownFeed_ThrowsNamingIt()
    {
        var store = new FeedStateStore(await _temp.OpenMigratedAsync());

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => store.RecordFailureAsync("ghost", "HTTP 404", At, At.AddHours(1), Ct));

        Assert.Contains("'ghost'", error.Message);
    }
}

public sealed class FeedStateStoreSqliteTests() : FeedStateStoreTests(Db.SqliteProvider);

public sealed class FeedStateStorePostgresqlTests() : FeedStateStoreTests(Db.PostgresqlProvider);
