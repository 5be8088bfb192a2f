using NewsBot.Delivery;
using NewsBot.Storage;
using NewsBot.Subscribers;

namespace NewsBot.Tests.Delivery;

public abstract class AnnounceJobTests(string provider) : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private DeliveryHarness? _harness;

    public void Dispose() => _harness?.Dispose();

    [SkippableFact]
    public async Task AnnouncePostsAsync_TwiceForTheSamePosts_CreatesOneSendPerPost()
    {
        var h = _harness = await DeliveryHarness.CreateAsync(provider);
        await h.SeedAsync(
            new NewSubscriber("a@example.org", null, ["nuclear"], Cadence.Instant),
            new NewSubscriber("b@example.org", null, [], Cadence.Daily));
        var first = await h.AddPostAsync("p1", ["nuclear"]);
        var second = await h.AddPostAsync("p2", ["sanctions"]);
        var job = ActivatorUtilities.CreateInstance<AnnounceJob>(h.Services, ActivatorUtilities.CreateInstance<DeliveryPlanner>(h.Services, h.Jobs));

        await job.AnnouncePostsAsync([first, second], Ct);
        await job.AnnouncePostsAsync([first, second], Ct);
        await h.RunDispatchesAsync();

        Assert.Equal(2, await h.CountAsync("SELECT COUNT(*) FROM sends WHERE requested_by = 'ingest'"));
        Assert.Single(h.DispatchRanges());
        Assert.Single(h.OutboxFiles());
        Assert.Equal(0, await h.CountAsync($"SELECT total FROM sends WHERE post_id = {second}"));
    }

    [SkippableFact]
    public async Task AdminSend_OfAnAnnouncedPost_IsASecondSend()
    {
        var h = _harness = await DeliveryHarness.CreateAsync(provider);
        await h.SeedAsync(new NewSubscriber("a@example.org", null, [], Cadence.Instant));
        var postId = await h.AddPostAsync("p1", ["nuclear"]);
        var job = ActivatorUtilities.CreateInstance<AnnounceJob>(h.Services, h.Planner);
        await job.AnnouncePostsAsync([postId], Ct);

        var admin = await h.Planner.PlanAsync(new SendRequest("post", postId, null, null, null, false, "admin"), Ct);

        Assert.NotNull(admin.SendId);
        Assert.Equal(2, await h.CountAsync("SELECT COUNT(*) FROM sends"));
        Assert.Equal(2, await h.CountAsync("SELECT COUNT(DISTINCT idempotency_key) FROM deliveries"));
    }
}

public sealed class AnnounceJobSqliteTests() : AnnounceJobTests(Db.SqliteProvider);

public sealed class AnnounceJobPostgresqlTests() : AnnounceJobTests(Db.PostgresqlProvider);
