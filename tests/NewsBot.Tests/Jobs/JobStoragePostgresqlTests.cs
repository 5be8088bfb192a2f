using Hangfire;
using Hangfire.Storage;

using NewsBot.Delivery;
using NewsBot.Feeds;
using NewsBot.Posts;
using NewsBot.Storage;
using NewsBot.Subscribers;
using NewsBot.Tests.Admin;
using NewsBot.Tests.Telegram;

namespace NewsBot.Tests.Jobs;

/// <summary>Two services in this process on one PostgreSQL database: two instances sharing Hangfire.PostgreSql.</summary>
public sealed class JobStoragePostgresqlTests
{
    [SkippableFact]
    public async Task TwoInstancesPollingOneFeedAtOnceIngestAndAnnounceANewPostOnce()
    {
        using var feed = new HarbourFeed();
        using var host = TestHost.Create(Db.PostgresqlProvider, feed.Settings);
        var services = await host.StartAsync();
        await services.GetRequiredService<SubscriberStore>().AddAsync(new NewSubscriber("reader@example.org", null, [], Cadence.Instant), CancellationToken.None);
        var posts = services.GetRequiredService<PostStore>();

        await using var first = await ServiceUnderTest.StartOnAsync(host);
        await using var second = await ServiceUnderTest.StartOnAsync(host);
        // Each instance polls every feed once at start: two polls of a first fetch, which stores history only.
        await WaitForIdleJobsAsync(first, succeeded: 2);
        feed.Publish(HarbourFeed.EmbargoEntry);
        // Both instances trigger the recurring job at once, as two schedulers would if the lock did not hold.
        await Task.WhenAll(
            Task.Run(() => first.Services.GetRequiredService<IRecurringJobManager>().Trigger(FeedPollJob.JobId("harbour"))),
            Task.Run(() => second.Services.GetRequiredService<IRecurringJobManager>().Trigger(FeedPollJob.JobId("harbour"))));
        // Two more polls, then one announce and one dispatch chunk.
        await WaitForIdleJobsAsync(second, succeeded: 6);

        var storage = first.Services.GetRequiredService<JobStorage>();
        Assert.IsType<Hangfire.PostgreSql.PostgreSqlStorage>(storage);
        using (var connection = storage.GetConnection())
        {
            Assert.Single(connection.GetRecurringJobs(), j => j.Id == FeedPollJob.JobId("harbour"));
        }

        Assert.Equal(0, storage.GetMonitoringApi().FailedCount());
        Assert.Equal(3, await posts.CountAsync(CancellationToken.None));
        var send = Assert.Single(await services.GetRequiredService<DeliveryStore>().ListLatestSendsAsync(10, CancellationToken.None));
        Assert.Equal(AnnounceJob.RequestedBy, send.RequestedBy);
        Assert.Equal("Embargo <Widens> & Tankers Wait 🚢", (await posts.GetAsync(send.PostId!.Value, CancellationToken.None))!.Title);
        var counts = await services.GetRequiredService<DeliveryStore>().CountStatesAsync(send.Id, CancellationToken.None);
        Assert.Equal(1, counts[DeliveryState.Sent]);
        Assert.Equal(1, counts.Values.Sum());
        Assert.Single(Directory.EnumerateFiles(Path.Combine(host.DataDirectory, "outbox"), "*.eml"));
    }

    /// <summary>Waits until at least <paramref name="succeeded"/> jobs succeeded and none is queued, running or waiting for a retry.</summary>
    private static Task WaitForIdleJobsAsync(ServiceUnderTest service, int succeeded)
    {
        var monitoring = service.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        return Eventually.HoldsAsync(
            () => Task.FromResult(monitoring.SucceededListCount() >= succeeded && monitoring.ProcessingCount() == 0
                && monitoring.ScheduledCount() == 0 && monitoring.EnqueuedCount("default") == 0),
            $"{succeeded} jobs succeeded and none left");
    }
}
