using NewsBot.Delivery;
using NewsBot.Feeds;

namespace NewsBot.Tests.Delivery;

public sealed class FeedPollAnnounceTests
{
    [Fact]
    public async Task PollFeedAsync_EnqueuesOneAnnounceForTheInsertedPosts_AndNoneWhenNothingIsNew()
    {
        using var host = TestHost.Create();
        var services = await host.StartAsync();
        var jobs = new RecordingJobClient();
        var poll = ActivatorUtilities.CreateInstance<FeedPollJob>(services, (Hangfire.IBackgroundJobClient)jobs);

        await poll.PollFeedAsync(FeedsOptions.SampleFeedName, CancellationToken.None);
        var afterFirst = jobs.Recorded.ToList();
        await poll.PollFeedAsync(FeedsOptions.SampleFeedName, CancellationToken.None);

        var announce = Assert.Single(afterFirst);
        Assert.Equal(typeof(AnnounceJob), announce.Type);
        Assert.Equal(nameof(AnnounceJob.AnnouncePostsAsync), announce.Method.Name);
        var postIds = Assert.IsType<long[]>(announce.Args[0]);
        Assert.Equal(await services.GetRequiredService<NewsBot.Posts.PostStore>().CountAsync(CancellationToken.None), postIds.Length);
        Assert.NotEmpty(postIds);
        Assert.Single(jobs.Recorded);
    }
}
