using Hangfire;

using Microsoft.Extensions.Logging;

using NewsBot.Delivery;
using NewsBot.Storage;
using NewsBot.Subscribers;
using NewsBot.Templates;
using NewsBot.Tests.Posts;

namespace NewsBot.Tests.Delivery;

/// <summary>
/// Several processes on one ledger, each simulated by its own <see cref="Db"/> (its own connection pool) and its
/// own <see cref="DeliveryStore"/> with an instance name and a clock the test moves.
/// </summary>
public abstract class DeliveryLeaseTests(string provider) : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    private readonly ManualTime time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
    private readonly List<Db> _dbs = [];
    private DeliveryHarness? _harness;

    public void Dispose()
    {
        foreach (var db in _dbs)
        {
            db.Dispose();
        }

        _harness?.Dispose();
    }

    [SkippableFact]
    public async Task TwoInstancesClaimingOneRangeAtOnce_NeverGetTheSameRow()
    {
        var (sendId, range) = await CreateSendAsync(300);
        var alpha = Instance("alpha");
        var beta = Instance("beta");

        var claims = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            Task.Run(() => (i % 2 == 0 ? alpha : beta).ClaimAsync(sendId, range.FirstId, range.LastId, Ct))));

        var ids = claims.SelectMany(c => c.Select(d => d.Id)).ToList();
        Assert.Equal(300, ids.Count);
        Assert.Equal(300, ids.Distinct().Count());
        var byAlpha = claims.Where((_, i) => i % 2 == 0).Sum(c => c.Count);
        Assert.Equal(byAlpha, await _harness!.CountAsync("SELECT COUNT(*) FROM deliveries WHERE state = 'sending' AND lease_owner = 'alpha'"));
        Assert.Equal(300 - byAlpha, await _harness.CountAsync("SELECT COUNT(*) FROM deliveries WHERE state = 'sending' AND lease_owner = 'beta'"));
        Assert.All(claims.SelectMany(c => c), d => Assert.Equal(time.Now + Lease, d.LeaseUntil));
    }

    [SkippableFact]
    public async Task AnExpiredLease_IsReleasedAndDispatchedOnce_EvenWithTwoSweepers()
    {
        var (sendId, range) = await CreateSendAsync(10);
        var dead = Instance("dead");
        var claimed = await dead.ClaimAsync(sendId, range.FirstId, range.LastId - 3, Ct);
        time.Now += TimeSpan.FromMinutes(1);
        var live = await Instance("live").ClaimAsync(sendId, range.LastId - 2, range.LastId, Ct);
        // Past the dead instance's lease (12:02), within the live one's (12:03).
        time.Now += TimeSpan.FromSeconds(90);
        var jobs = new[] { new RecordingJobClient(), new RecordingJobClient() };
        var sweepers = jobs.Select((j, i) => new LeaseSweeper(Instance($"sweeper{i}"), j, time,
            _harness!.Services.GetRequiredService<ILogger<LeaseSweeper>>())).ToList();

        var released = await Task.WhenAll(sweepers.Select(s => Task.Run(() => s.SweepAsync(Ct))));
        var again = await sweepers[0].SweepAsync(Ct);

        Assert.Equal(7, claimed.Count);
        Assert.Equal(3, live.Count);
        Assert.Equal(7, released.Sum());
        Assert.Equal(0, again);
        var dispatch = Assert.Single(jobs.SelectMany(j => j.Recorded));
        Assert.Equal(typeof(DispatchJob), dispatch.Type);
        Assert.Equal((sendId, range.FirstId, range.LastId - 3), ((long)dispatch.Args[0], (long)dispatch.Args[1], (long)dispatch.Args[2]));
        var counts = await _harness!.Store.CountStatesAsync(sendId, Ct);
        Assert.Equal((7, 3), (counts[DeliveryState.Pending], counts[DeliveryState.Sending]));
        Assert.Equal(3, await _harness.CountAsync("SELECT COUNT(*) FROM deliveries WHERE state = 'sending' AND lease_owner = 'live'"));
    }

    [SkippableFact]
    public async Task ARenewedLease_KeepsItsRowsPastTheFirstExpiry()
    {
        var (sendId, range) = await CreateSendAsync(4);
        var alpha = Instance("alpha");
        var claimed = await alpha.ClaimAsync(sendId, range.FirstId, range.LastId, Ct);
        await alpha.MarkSentAsync(claimed[0], Ct);

        time.Now += TimeSpan.FromSeconds(40);
        var renewed = await alpha.RenewLeaseAsync(sendId, range.FirstId, range.LastId, claimed[0].LeaseUntil, Ct);
        // Past the claim's lease (12:02), within the renewed one (12:02:40).
        time.Now += TimeSpan.FromSeconds(100);
        var released = await Instance("sweeper").ReleaseExpiredLeasesAsync(Ct);

        Assert.Equal(claimed.Skip(1).Select(c => c.Id).ToHashSet(), renewed.DeliveryIds);
        Assert.Equal(new DateTimeOffset(2026, 11, 28, 12, 2, 40, TimeSpan.Zero), renewed.Until);
        Assert.Empty(released);
        Assert.Equal(3, (await _harness!.Store.CountStatesAsync(sendId, Ct))[DeliveryState.Sending]);
        // The claim's old lease end no longer names its rows: a stale renewal keeps nothing.
        Assert.Empty((await alpha.RenewLeaseAsync(sendId, range.FirstId, range.LastId, claimed[0].LeaseUntil, Ct)).DeliveryIds);
    }

    [SkippableFact]
    public async Task AClaimWhoseRowWasReleasedAndClaimedAgain_CannotMarkIt()
    {
        var (sendId, range) = await CreateSendAsync(1);
        // The same instance name on both claims: what tells them apart is the attempt the claim counted.
        var first = Assert.Single(await Instance("alpha").ClaimAsync(sendId, range.FirstId, range.LastId, Ct));
        time.Now += Lease + TimeSpan.FromSeconds(1);
        await Instance("sweeper").ReleaseExpiredLeasesAsync(Ct);
        var second = Assert.Single(await Instance("alpha").ClaimAsync(sendId, range.FirstId, range.LastId, Ct));

        Assert.False(await _harness!.Store.MarkFailedAsync(first, permanent: false, "late", Ct));
        Assert.Equal(1, (await _harness.Store.CountStatesAsync(sendId, Ct))[DeliveryState.Sending]);
        Assert.True(await Instance("alpha").MarkSentAsync(second, Ct));
        Assert.Equal(1, (await _harness.Store.CountStatesAsync(sendId, Ct))[DeliveryState.Sent]);
    }

    [SkippableFact]
    public async Task AJobThatLostItsLease_SendsNoMoreRows()
    {
        var (sendId, range) = await CreateSendAsync(5);
        var alpha = Instance("alpha");
        DeliveryStore? beta = null;
        IReadOnlyList<ClaimedDelivery> taken = [];
        // While the first message goes out, alpha stalls past its lease; another instance sweeps and claims the chunk.
        var channel = new StallingChannel(async () =>
        {
            time.Now += Lease + TimeSpan.FromSeconds(1);
            await Instance("sweeper").ReleaseExpiredLeasesAsync(Ct);
            beta = Instance("beta");
            taken = await beta.ClaimAsync(sendId, range.FirstId, range.LastId, Ct);
        });
        var job = ActivatorUtilities.CreateInstance<DispatchJob>(_harness!.Services, alpha, (TimeProvider)time, (IEnumerable<IChannel>)[channel]);

        await job.DispatchAsync(sendId, range.FirstId, range.LastId, Ct);

        Assert.Single(channel.Messages);
        Assert.Equal(5, taken.Count);
        // alpha's late "sent" did not overwrite beta's claim of the row: beta sends it and records the outcome.
        Assert.Equal(5, await _harness.CountAsync("SELECT COUNT(*) FROM deliveries WHERE state = 'sending' AND lease_owner = 'beta' AND attempts = 2"));
        Assert.True(await beta!.MarkSentAsync(taken[0], Ct));
    }

    [SkippableFact]
    public async Task RestartRecovery_LeavesALiveLeaseAlone_AndFreesAnExpiredOne()
    {
        var (sendId, range) = await CreateSendAsync(6);
        // Claimed by the CLI sending beside the service (live lease), and by an instance that died long ago.
        var cli = new DeliveryStore(OpenDb(), TimeProvider.System, "cli", Lease);
        await cli.ClaimAsync(sendId, range.FirstId, range.FirstId + 2, Ct);
        var dead = new DeliveryStore(OpenDb(), new ManualTime(DateTimeOffset.UtcNow.AddHours(-1)), "dead", Lease);
        await dead.ClaimAsync(sendId, range.FirstId + 3, range.LastId, Ct);
        var h = _harness!;
        h.Jobs.Clear();

        var recovery = ActivatorUtilities.CreateInstance<DeliveryRecovery>(h.Services, (IBackgroundJobClient)h.Jobs, h.Planner);
        await recovery.StartAsync(Ct);

        Assert.Equal(3, await h.CountAsync("SELECT COUNT(*) FROM deliveries WHERE state = 'sending' AND lease_owner = 'cli'"));
        Assert.Equal(3, (await h.Store.CountStatesAsync(sendId, Ct))[DeliveryState.Pending]);
        Assert.Equal((sendId, range.FirstId + 3, range.LastId), Assert.Single(h.DispatchRanges()));
    }

    [SkippableFact]
    public async Task ClaimedRows_CarryTheConfiguredInstanceName()
    {
        _harness = await DeliveryHarness.CreateAsync(provider, ("NewsBot:InstanceName", "newsbot-eu-1"));
        var sendId = (await _harness.Store.CreateSendAsync("post", null, null, [Channels.Email], null, false, "admin", null, Ct))!.Value;
        DeliveryRange range;
        await using (var writer = await _harness.Store.OpenLedgerWriterAsync(sendId, Ct))
        {
            range = (await writer.AddAsync([new NewDelivery(1, Channels.Email, "a@example.org", "post")], Ct))!;
        }

        await _harness.Store.ClaimAsync(sendId, range.FirstId, range.LastId, Ct);

        Assert.Equal("newsbot-eu-1", _harness.Store.InstanceName);
        Assert.Equal(1, await _harness.CountAsync("SELECT COUNT(*) FROM deliveries WHERE lease_owner = 'newsbot-eu-1'"));
    }

    private Db OpenDb()
    {
        var db = new Db(_harness!.Db.Dialect.Name, _harness.Db.ConnectionString);
        _dbs.Add(db);
        return db;
    }

    private DeliveryStore Instance(string name) => new(OpenDb(), time, name, Lease);

    private async Task<(long SendId, DeliveryRange Range)> CreateSendAsync(int rows)
    {
        _harness = await DeliveryHarness.CreateAsync(provider);
        var sendId = (await _harness.Store.CreateSendAsync("post", null, null, [Channels.Email], null, false, "admin", null, Ct))!.Value;
        await using var writer = await _harness.Store.OpenLedgerWriterAsync(sendId, Ct);
        var range = await writer.AddAsync(
            Enumerable.Range(1, rows).Select(i => new NewDelivery(i, Channels.Email, $"r{i}@example.org", "post")).ToList(), Ct);
        await _harness.Store.MarkPlannedAsync(sendId, Ct);
        await _harness.Store.SaveMessagesAsync(sendId,
            [new SendMessage("post", MessageFormat.EmailHtml, "Subject", "<p>Body</p>"), new SendMessage("post", MessageFormat.EmailText, "Subject", "Body")], Ct);
        return (sendId, range!);
    }

    /// <summary>Runs <paramref name="stall"/> during its first send, as a process that hangs mid-chunk.</summary>
    private sealed class StallingChannel(Func<Task> stall) : IChannel
    {
        public List<OutgoingMessage> Messages { get; } = [];

        public string Name => Channels.Email;

        public double MessagesPerSecond => 1000;

        public async Task<ChannelResult> SendAsync(OutgoingMessage message, CancellationToken ct)
        {
            Messages.Add(message);
            if (Messages.Count == 1)
            {
                await stall();
            }

            return ChannelResult.Sent;
        }
    }
}

public sealed class DeliveryLeaseSqliteTests() : DeliveryLeaseTests(Db.SqliteProvider);

public sealed class DeliveryLeasePostgresqlTests() : DeliveryLeaseTests(Db.PostgresqlProvider);
