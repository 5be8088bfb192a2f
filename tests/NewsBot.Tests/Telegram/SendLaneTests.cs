using NewsBot.Telegram;
using NewsBot.Tests.Posts;

namespace NewsBot.Tests.Telegram;

/// <summary>The lane's slots on a clock the test moves: no sleeping.</summary>
public sealed class SendLaneTests
{
    private readonly ManualTime time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void MessagesToDifferentChatsArePacedByTheGlobalRate()
    {
        var lane = new SendLane(time, 4, TimeSpan.FromSeconds(1), 20);

        var waits = Enumerable.Range(1, 5).Select(chat => lane.Reserve(chat)).ToList();

        Assert.Equal([0, 250, 500, 750, 1000], waits.Select(w => w.TotalMilliseconds));
    }

    [Fact]
    public void OneChatGetsAtMostOneMessagePerIntervalAndAGroupTwentyAMinute()
    {
        var lane = new SendLane(time, 1000, TimeSpan.FromSeconds(1), 20);

        var chat = new[] { lane.Reserve(5), lane.Reserve(5) };
        var group = new[] { lane.Reserve(-5), lane.Reserve(-5) };

        Assert.Equal(TimeSpan.FromSeconds(1), chat[1]);
        // 60 s / 20 between two messages to the group, whatever the per-chat interval.
        Assert.Equal(TimeSpan.FromSeconds(3), group[1] - group[0]);
    }

    [Fact]
    public void APauseHoldsEveryChatUntilRetryAfterHasPassed()
    {
        var lane = new SendLane(time, 30, TimeSpan.FromSeconds(1), 20);
        lane.Reserve(1);

        lane.Pause(TimeSpan.FromSeconds(5));
        var during = lane.Reserve(2);
        time.Now += TimeSpan.FromSeconds(6);
        var after = lane.Reserve(3);

        Assert.True(during >= TimeSpan.FromSeconds(5), $"waited {during}");
        Assert.Equal(TimeSpan.Zero, after);
        Assert.Equal(new DateTimeOffset(2026, 11, 28, 12, 0, 5, TimeSpan.Zero), lane.PausedUntil);
    }
}
