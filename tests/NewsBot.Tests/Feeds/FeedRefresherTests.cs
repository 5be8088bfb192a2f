using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

using NewsBot.Feeds;
using NewsBot.Posts;

namespace NewsBot.Tests.Feeds;

public sealed class FeedRefresherTests : IDisposable
{
    private readonly string feedFolder = Path.Combine(Path.GetTempPath(), "newsbot-feeds", Guid.NewGuid().ToString("n"));
    private readonly TestHost host;

    public FeedRefresherTests()
    {
        Directory.CreateDirectory(feedFolder);
        File.Copy(TestPaths.Fixture("feeds/blogger-page1.xml"), Path.Combine(feedFolder, "blogger-page1.xml"));
        File.Copy(TestPaths.Fixture("feeds/blogger-page2.xml"), Path.Combine(feedFolder, "blogger-page2.xml"));
        host = TestHost.Create(
            ("NewsBot:Feeds:0:Name", "harbour"),
            ("NewsBot:Feeds:0:Url", Path.Combine(feedFolder, "blogger-page1.xml")));
    }

    private string Page1 => Path.Combine(feedFolder, "blogger-page1.xml");

    public void Dispose()
    {
        host.Dispose();
        Directory.Delete(feedFolder, recursive: true);
    }

    private static Task<RefreshResult> RefreshAsync(IServiceProvider services, bool force = false) =>
        services.GetRequiredService<FeedRefresher>().RefreshFeedAsync("harbour", force, null, CancellationToken.None);

    [Fact]
    public async Task FirstPollBackfillsOlderPagesAndStoresSanitizedTaggedPosts()
    {
        var services = await host.StartAsync();

        var result = await RefreshAsync(services);

        Assert.Equal(RefreshOutcome.Stored, result.Outcome);
        Assert.Equal(2, result.Pages);
        Assert.Equal(3, result.NewPostIds.Count);
        var posts = await services.GetRequiredService<PostStore>().LatestAsync(10, null, CancellationToken.None);
        Assert.Equal(
            ["Port Calls and the Sanctions Net", "A Treaty Signed in Pyongyang", "Prefectures and the Waste Question"],
            posts.Select(p => p.Title));
        var newest = posts[0];
        Assert.Equal("tag:blogger.com,1999:blog-1111222233334444.post-3000", newest.Key);
        Assert.Equal("https://harbour-watch.example.org/2024/07/port-calls.html", newest.Url);
        Assert.Equal(["Sanctions"], newest.Labels);
        Assert.Contains("sanctions", newest.Topics);
        Assert.DoesNotContain("script", newest.ContentHtml, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("embargo was tightened", newest.Summary);
        Assert.Contains("north-korea", posts[1].Topics);
        Assert.Contains("nuclear", posts[2].Topics);
    }

    [Fact]
    public async Task PostIdsRiseWithPublicationTime()
    {
        var services = await host.StartAsync();

        var result = await RefreshAsync(services);

        var posts = await services.GetRequiredService<PostStore>().GetManyAsync(result.NewPostIds, CancellationToken.None);
        var byId = posts.OrderBy(p => p.Id).Select(p => p.Published).ToList();
        Assert.Equal(byId.Order().ToList(), byId);
    }

    [Fact]
    public async Task UnchangedFeedIsNotModifiedAndAnnouncesNothing()
    {
        var services = await host.StartAsync();
        await RefreshAsync(services);

        var again = await RefreshAsync(services);

        Assert.Equal(RefreshOutcome.NotModified, again.Outcome);
        Assert.Empty(again.NewPostIds);
    }

    [Fact]
    public async Task PostsAreNewOnceAcrossRestarts()
    {
        var first = await RefreshAsync(await host.StartAsync());
        File.SetLastWriteTimeUtc(Page1, DateTime.UtcNow.AddMinutes(1));

        var afterRestart = await RefreshAsync(await host.StartAsync(), force: true);

        Assert.Equal(3, first.NewPostIds.Count);
        Assert.Equal(RefreshOutcome.Stored, afterRestart.Outcome);
        Assert.Empty(afterRestart.NewPostIds);
        Assert.Equal(1, afterRestart.Pages);
        Assert.Equal(2, afterRestart.Unchanged);
    }

    [Fact]
    public async Task AnEditedPostUpdatesTheRowAndIsNotNewAgain()
    {
        var services = await host.StartAsync();
        await RefreshAsync(services);
        var edited = File.ReadAllText(Page1)
            .Replace("Three tankers called", "Four tankers called", StringComparison.Ordinal)
            .Replace("<updated>2024-07-02T09:00:00.000+09:00</updated>\n    <category", "<updated>2024-07-03T10:00:00.000+09:00</updated>\n    <category", StringComparison.Ordinal);
        File.WriteAllText(Page1, edited);
        File.SetLastWriteTimeUtc(Page1, DateTime.UtcNow.AddMinutes(1));

        var result = await RefreshAsync(services);

        Assert.Empty(result.NewPostIds);
        Assert.Equal(1, result.Updated);
        var post = (await services.GetRequiredService<PostStore>().LatestAsync(1, null, CancellationToken.None))[0];
        Assert.Contains("Four tankers called", post.ContentHtml);
        Assert.Equal(new DateTimeOffset(2024, 7, 3, 1, 0, 0, TimeSpan.Zero), post.Updated);
    }

    [Fact]
    public async Task AFailedPollIsRecordedAndBacksOffExponentially()
    {
        var services = await host.StartAsync();
        File.WriteAllText(Page1, "<html><body>Service temporarily unavailable</body></html>");
        var states = services.GetRequiredService<FeedStateStore>();

        await Assert.ThrowsAsync<FeedFormatException>(() => RefreshAsync(services));
        var afterOne = await states.GetAsync("harbour", CancellationToken.None);
        var skipped = await RefreshAsync(services);
        await Assert.ThrowsAsync<FeedFormatException>(() => RefreshAsync(services, force: true));
        var afterTwo = await states.GetAsync("harbour", CancellationToken.None);

        Assert.Equal(1, afterOne!.FailureCount);
        Assert.False(string.IsNullOrEmpty(afterOne.LastError));
        Assert.Equal(RefreshOutcome.BackingOff, skipped.Outcome);
        Assert.Equal(2, afterTwo!.FailureCount);
        var refresher = services.GetRequiredService<FeedRefresher>();
        Assert.Equal(TimeSpan.FromMinutes(5), refresher.Backoff(1));
        Assert.Equal(TimeSpan.FromMinutes(10), refresher.Backoff(2));
        Assert.Equal(TimeSpan.FromHours(12), refresher.Backoff(40));
        Assert.True(afterTwo.NextAttemptAt - afterTwo.LastPolledAt >= TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task RecoveryClearsTheFailureCount()
    {
        var services = await host.StartAsync();
        var good = File.ReadAllText(Page1);
        File.WriteAllText(Page1, "not a feed");
        await Assert.ThrowsAsync<FeedFormatException>(() => RefreshAsync(services));
        File.WriteAllText(Page1, good);

        var result = await RefreshAsync(services, force: true);

        Assert.Equal(3, result.NewPostIds.Count);
        var state = await services.GetRequiredService<FeedStateStore>().GetAsync("harbour", CancellationToken.None);
        Assert.Equal(0, state!.FailureCount);
        Assert.Null(state.LastError);
    }

    [Fact]
    public async Task APermanentRedirectIsRememberedForTheNextPoll()
    {
        var page = File.ReadAllBytes(TestPaths.Fixture("feeds/blogger-page1.xml"));
        await using var server = await FeedServer.StartAsync(app =>
        {
            app.MapGet("/old.xml", () => Results.Redirect("/new.xml", permanent: true));
            app.MapGet("/new.xml", () => Results.Bytes(page, "application/atom+xml"));
        });
        using var moved = TestHost.Create(
            ("NewsBot:Feeds:0:Name", "harbour"),
            ("NewsBot:Feeds:0:Url", server.Url("/old.xml")),
            ("NewsBot:Feeds:0:Backfill", "false"));
        var services = await moved.StartAsync();

        await RefreshAsync(services);
        var second = await RefreshAsync(services, force: true);

        var state = await services.GetRequiredService<FeedStateStore>().GetAsync("harbour", CancellationToken.None);
        Assert.Equal(server.Url("/new.xml"), state!.PermanentUrl);
        Assert.Equal(RefreshOutcome.Stored, second.Outcome);
        Assert.Equal(["/old.xml", "/new.xml", "/new.xml"], server.Requests.Select(r => r.PathAndQuery));
    }

    [Fact]
    public void IdentityFallsBackFromIdToLinkToTitleAndDate()
    {
        var date = new DateTimeOffset(2024, 6, 19, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal("guid-1", FeedRefresher.IdentifyItem(new FeedItem { Id = " guid-1 ", Url = "https://x/1" }));
        Assert.Equal("https://x/1", FeedRefresher.IdentifyItem(new FeedItem { Url = "https://x/1", Title = "T" }));
        var byHash = FeedRefresher.IdentifyItem(new FeedItem { Title = "T", Published = date });
        Assert.StartsWith("sha256:", byHash);
        Assert.Equal(byHash, FeedRefresher.IdentifyItem(new FeedItem { Title = "T", Published = date }));
        Assert.NotEqual(byHash, FeedRefresher.IdentifyItem(new FeedItem { Title = "T", Published = date.AddDays(1) }));
    }
}
