namespace NewsBot.Telegram;

/// <summary>
/// The Bot API's sending limits, process-wide, in one place: a global pace (one message every
/// 1/<c>GlobalMessagesPerSecond</c>), at most one message per <c>PerChatInterval</c> to a chat, and at most
/// <c>GroupMessagesPerMinute</c> to a group (a negative chat id). A 429 pauses the whole lane: Telegram's
/// <c>retry_after</c> applies to the bot, not to the one chat (https://core.telegram.org/bots/faq#broadcasting-to-users).
/// Each caller reserves a slot and waits for it, so concurrent senders are served in order without busy waiting.
/// </summary>
public sealed class SendLane(TimeProvider time, int messagesPerSecond, TimeSpan perChatInterval, int groupMessagesPerMinute)
{
    // Chat slots older than this are forgotten when the table grows, so memory stays bounded over a long send.
    private const int PruneAbove = 10_000;

    private readonly Lock _gate = new();
    private readonly TimeSpan _globalInterval = TimeSpan.FromTicks(TimeSpan.TicksPerSecond / messagesPerSecond);
    private readonly TimeSpan _groupInterval = perChatInterval > TimeSpan.FromMinutes(1) / groupMessagesPerMinute
        ? perChatInterval
        : TimeSpan.FromMinutes(1) / groupMessagesPerMinute;
    private readonly Dictionary<long, DateTimeOffset> _chatNext = [];
    private DateTimeOffset _globalNext = DateTimeOffset.MinValue;
    private DateTimeOffset _pausedUntil = DateTimeOffset.MinValue;

    /// <summary>The global pace: messages per second to all chats together.</summary>
    public int MessagesPerSecond => messagesPerSecond;

    /// <summary>The end of the current 429 pause, or <see cref="DateTimeOffset.MinValue"/>.</summary>
    public DateTimeOffset PausedUntil
    {
        get
        {
            lock (_gate)
            {
                return _pausedUntil;
            }
        }
    }

    /// <summary>Reserves the next slot for <paramref name="chatId"/> and returns how long to wait for it (zero: send now).</summary>
    public TimeSpan Reserve(long chatId)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var slot = Max(Max(now, _pausedUntil), _globalNext);
            if (_chatNext.TryGetValue(chatId, out var chatNext))
            {
                slot = Max(slot, chatNext);
            }

            _globalNext = slot + _globalInterval;
            if (_chatNext.Count >= PruneAbove)
            {
                foreach (var stale in _chatNext.Where(c => c.Value <= now).Select(c => c.Key).ToList())
                {
                    _chatNext.Remove(stale);
                }
            }

            _chatNext[chatId] = slot + (chatId < 0 ? _groupInterval : perChatInterval);
            return slot - now;
        }
    }

    /// <summary>Waits until a message to <paramref name="chatId"/> may go out, including any pause begun meanwhile.</summary>
    public async Task WaitAsync(long chatId, CancellationToken ct)
    {
        while (true)
        {
            var wait = Reserve(chatId);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, ct);
            }

            // A 429 seen by another sender while this one waited: its slot is void, take a new one after the pause.
            if (PausedUntil <= time.GetUtcNow())
            {
                return;
            }
        }
    }

    /// <summary>Stops every send of the lane for <paramref name="retryAfter"/> (a 429's <c>parameters.retry_after</c>).</summary>
    public void Pause(TimeSpan retryAfter)
    {
        lock (_gate)
        {
            var until = time.GetUtcNow() + retryAfter;
            _pausedUntil = Max(_pausedUntil, until);
            _globalNext = Max(_globalNext, _pausedUntil);
        }
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
