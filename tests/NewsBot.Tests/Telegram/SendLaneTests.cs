using NewsBot.Storage;
using NewsBot.Telegram;
using NewsBot.Tests.Posts;
using NewsBot.Tests.Storage;

namespace NewsBot.Tests.Telegram;

/// <summary>
/// The lane's slots on a clock the test moves: no sleeping. Two processes on one database are two lanes over two
/// <see cref="Db"/> instances (two connection pools).
/// </summary>
public abstract class SendLaneTests(string provider) : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private readonly ManualTime time = new(Start);
    private readonly TempDatabase _database = new(provider);

    public void Dispose()
    {
        _database.Dispose();
        GC.SuppressFinalize(this);
    }

    [SkippableFact]
    public async Task MessagesToDifferentChatsArePacedByTheGlobalRate()
    {
        var lane = await LaneAsync(4);

        var slots = new List<DateTimeOffset>();
        foreach (var chat in Enumerable.Range(1, 5))
        {
            slots.Add(await lane.ReserveAsync(chat, Ct));
        }

        Assert.Equal([0, 250, 500, 750, 1000], slots.Select(s => (s - Start).TotalMilliseconds));
    }

    [SkippableFact]
    public async Task OneChatGetsAtMostOneMessagePerIntervalAndAGroupTwentyAMinute()
    {
        var lane = await LaneAsync(1000);

        var chat = new[] { await lane.ReserveAsync(5, Ct), await lane.ReserveAsync(5, Ct) };
        var group = new[] { await lane.ReserveAsync(-5, Ct), await lane.ReserveAsync(-5, Ct) };

        Assert.Equal(TimeSpan.FromSeconds(1), chat[1] - chat[0]);
        // 60 s / 20 between two messages to the group, whatever the per-chat interval.
        Assert.Equal(TimeSpan.FromSeconds(3), group[1] - group[0]);
    }

    [SkippableFact]
    public async Task APauseHoldsEveryChatUntilRetryAfterHasPassed()
    {
        var lane = await LaneAsync(30);
        await lane.ReserveAsync(1, Ct);

        await lane.PauseAsync(TimeSpan.FromSeconds(5), Ct);
        var during = await lane.ReserveAsync(2, Ct);
        time.Now += TimeSpan.FromSeconds(6);
        var after = await lane.ReserveAsync(3, Ct);

        Assert.Equal(Start.AddSeconds(5), during);
        Assert.Equal(time.Now, after);
        Assert.Equal(Start.AddSeconds(5), await lane.ReadPausedUntilAsync(Ct));
    }

    [SkippableFact]
    public async Task TwoProcessesOnOneDatabaseHoldTheGlobalRateTogether()
    {
        var first = await LaneAsync(10);
        var second = await LaneAsync(10, _database.Open());

        // Both processes reserve at once, many senders each, as two instances dispatching chunks of one send.
        var slots = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            Task.Run(() => (i % 2 == 0 ? first : second).ReserveAsync(1000 + i, Ct))));

        var ordered = slots.Order().ToList();
        Assert.Equal(40, ordered.Distinct().Count());
        Assert.Equal(Start, ordered[0]);
        // 10 a second between them: every slot 100 ms after the one before, whichever process took it.
        Assert.All(ordered.Zip(ordered.Skip(1)), pair => Assert.Equal(TimeSpan.FromMilliseconds(100), pair.Second - pair.First));
    }

    [SkippableFact]
    public async Task A429InOneProcessDelaysTheOther()
    {
        var first = await LaneAsync(30);
        var second = await LaneAsync(30, _database.Open());
        var before = await second.ReserveAsync(1, Ct);

        await first.PauseAsync(TimeSpan.FromSeconds(7), Ct);
        var during = await second.ReserveAsync(2, Ct);

        Assert.Equal(Start, before);
        Assert.Equal(Start.AddSeconds(7), during);
        Assert.Equal(Start.AddSeconds(7), await second.ReadPausedUntilAsync(Ct));
    }

    [SkippableFact]
    public async Task AGroupGetsTwentyAMinuteFromAllProcessesTogether()
    {
        var first = await LaneAsync(1000);
        var second = await LaneAsync(1000, _database.Open());

        var slots = new List<DateTimeOffset>();
        foreach (var lane in (SendLane[])[first, second, first, second])
        {
            slots.Add(await lane.ReserveAsync(-1001234, Ct));
        }

        Assert.Equal([0, 3, 6, 9], slots.Select(s => (s - Start).TotalSeconds));
    }

    private async Task<SendLane> LaneAsync(int perSecond, Db? db = null)
    {
        db ??= _database.Db;
        await new Migrator(db).MigrateAsync(Ct);
        return new SendLane(db, time, "telegram:123456", perSecond, TimeSpan.FromSeconds(1), 20);
    }
}

public sealed class SendLaneSqliteTests() : SendLaneTests(Db.SqliteProvider);

public sealed class SendLanePostgresqlTests() : SendLaneTests(Db.PostgresqlProvider);
