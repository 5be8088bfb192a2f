using NewsBot.Delivery;
using NewsBot.Feeds;
using NewsBot.Posts;

namespace NewsBot.Tests.Delivery;

public sealed class FeedPollAnnounceTests
{
    private const string NewEntry = """
          <entry>
            <id>tag:blogger.com,1999:blog-1111222233334444.post-4000</id>
            <published>2024-07-05T09:00:00.000+09:00</published>
            <updated>2024-07-05T09:00:00.000+09:00</updated>
            <title type='text'>Embargo Talks Resume</title>
            <content type='html'>&lt;p&gt;Sanctions talks resume in Geneva.&lt;/p&gt;</content>
            <link rel='alternate' type='text/html' href='https://harbour-watch.example.org/2024/07/talks.html'/>
          </entry>
        </feed>
        """;

    [Fact]
    public async Task AFirstPollStoresHistoryWithoutAnnouncingAndLaterPollsAnnounceOnlyNewPosts()
    {
        using var host = TestHost.Create(("NewsBot:Feeds:0:Name", "harbour"), ("NewsBot:Feeds:0:Backfill", "false"));
        var feed = Path.Combine(host.DataDirectory, "feed.xml");
        File.Copy(TestPaths.Fixture("feeds/blogger-page1.xml"), feed);
        host.Configuration["NewsBot:Feeds:0:Url"] = feed;
        var services = await host.StartAsync();
        var jobs = new RecordingJobClient();
        var poll = ActivatorUtilities.CreateInstance<FeedPollJob>(services, (Hangfire.IBackgroundJobClient)jobs);

        await poll.PollFeedAsync("harbour", CancellationToken.None);
        var afterFirst = jobs.Recorded.ToList();
        File.WriteAllText(feed, File.ReadAllText(feed).Replace("</feed>", NewEntry, StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(feed, DateTime.UtcNow.AddMinutes(1));
        await poll.PollFeedAsync("harbour", CancellationToken.None);
        await poll.PollFeedAsync("harbour", CancellationToken.None);

        Assert.Empty(afterFirst);
        Assert.Equal(3, await services.GetRequiredService<PostStore>().CountAsync(CancellationToken.None));
        var announce = Assert.Single(jobs.Recorded);
        Assert.Equal(typeof(AnnounceJob), announce.Type);
        Assert.Equal(nameof(AnnounceJob.AnnouncePostsAsync), announce.Method.Name);
        var postId = Assert.Single(Assert.IsType<long[]>(announce.Args[0]));
        Assert.Equal("Embargo Talks Resume", (await services.GetRequiredService<PostStore>().GetAsync(postId, CancellationToken.None))!.Title);
    }
}
