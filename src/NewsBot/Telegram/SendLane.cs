using NewsBot.Storage;

namespace NewsBot.Telegram;

/// <summary>
/// The Bot API's sending limits for one bot, shared by every process on the database (N service instances, or the
/// CLI beside the service): a global pace (one message every 1/<c>GlobalMessagesPerSecond</c>), at most one message
/// per <c>PerChatInterval</c> to a chat, and at most <c>GroupMessagesPerMinute</c> to a group (a negative chat id). A
/// 429 pauses the whole lane in every process: Telegram's <c>retry_after</c> applies to the bot, not to the one chat
/// (https://core.telegram.org/bots/faq#broadcasting-to-users).
/// <para>
/// The global pace is a token bucket in the <c>send_lanes</c> row: a reservation of n slots is one
/// <c>UPDATE ... RETURNING</c> that moves the next free slot n intervals on, never before the pause's end. Senders
/// of a process that arrive while its reservation is on the way wait for the next one, which takes a slot for each
/// of them: one round trip per batch, and no slot is ever held by a process that has nobody to use it (a slot used
/// late would let two processes send in the same interval). Each caller then waits for its slot, so senders are
/// served in order without busy waiting.
/// </para>
/// </summary>
public sealed class SendLane
{
    // Private chats' slots older than this are forgotten when the table grows, so memory stays bounded over a long send.
    private const int PruneAbove = 10_000;

    private const int MaxRetakes = 3;

    private readonly Db _db;
    private readonly TimeProvider _time;
    private readonly string _name;
    private readonly long _intervalUs;
    private readonly long _chatIntervalUs;
    private readonly long _groupIntervalUs;
    private readonly Lock _gate = new();
    private readonly Dictionary<long, long> _chatNext = [];
    private List<TaskCompletionSource<long>> _waiting = [];
    private bool _reserving;
    private bool _created;

    /// <param name="name">The lane's row in <c>send_lanes</c>: one per bot, whatever the number of processes.</param>
    public SendLane(Db db, TimeProvider time, string name, int messagesPerSecond, TimeSpan perChatInterval, int groupMessagesPerMinute)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(messagesPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(groupMessagesPerMinute, 1);
        _db = db;
        _time = time;
        _name = name;
        MessagesPerSecond = messagesPerSecond;
        // Rounded up: 30/s is 33,334 us, never a hair faster than the limit.
        _intervalUs = (1_000_000L + messagesPerSecond - 1) / messagesPerSecond;
        _chatIntervalUs = perChatInterval.Ticks / TimeSpan.TicksPerMicrosecond;
        _groupIntervalUs = Math.Max(_chatIntervalUs, (60_000_000L + groupMessagesPerMinute - 1) / groupMessagesPerMinute);
    }

    /// <summary>The global pace: messages per second to all chats together.</summary>
    public int MessagesPerSecond { get; }

    /// <summary>How late after its slot a sender may still go: two intervals, and at least 50 ms of timer and scheduling delay.</summary>
    private TimeSpan LateTolerance => TimeSpan.FromMicroseconds(Math.Max(2 * _intervalUs, 50_000));

    /// <summary>The end of the current 429 pause, as any process set it; the Unix epoch when there was none.</summary>
    public async Task<DateTimeOffset> ReadPausedUntilAsync(CancellationToken ct)
    {
        await EnsureCreatedAsync(ct);
        await using var connection = await _db.OpenAsync(ct);
        await using var command = connection.CreateCommand("SELECT paused_until_us FROM send_lanes WHERE name = @name");
        command.AddParameter("name", _name);
        return FromMicroseconds(Convert.ToInt64(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Reserves a slot for a message to <paramref name="chatId"/>: a global slot at which the chat is free too, not
    /// before any pause's end. Returns its time; the message may go out then, not earlier.
    /// </summary>
    public async Task<DateTimeOffset> ReserveAsync(long chatId, CancellationToken ct)
    {
        await EnsureCreatedAsync(ct);
        long? notBefore = null;
        while (true)
        {
            var slot = notBefore is { } after ? await ReserveSlotsAsync(1, after, ct) : await ReserveBatchedAsync(ct);
            notBefore = chatId < 0 ? await ClaimGroupAsync(chatId, slot, ct) : ClaimPrivateChat(chatId, slot);
            if (notBefore is null)
            {
                return FromMicroseconds(slot);
            }

            // The chat is busy until notBefore: this global slot goes unused, and the next one is taken after that.
        }
    }

    /// <summary>Waits until a message to <paramref name="chatId"/> may go out, including any pause begun meanwhile in any process.</summary>
    public async Task WaitAsync(long chatId, CancellationToken ct)
    {
        for (var retakes = 0; ; retakes++)
        {
            var slot = await ReserveAsync(chatId, ct);
            var wait = slot - _time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, ct);
                // A 429 seen by another sender while this one waited: its slot is void, take a new one after the pause.
                if (await ReadPausedUntilAsync(ct) > _time.GetUtcNow())
                {
                    continue;
                }
            }

            // Reached long after its slot (a stalled process, a reservation that waited for the database): going
            // now would send together with the senders due now, a burst over the bot's rate that Telegram answers
            // with 429. A new slot keeps the pace; a few retakes at most, so a slow database cannot hold a sender forever.
            if (_time.GetUtcNow() - slot > LateTolerance && retakes < MaxRetakes)
            {
                continue;
            }

            return;
        }
    }

    /// <summary>Stops every send of the lane, in every process, for <paramref name="retryAfter"/> (a 429's <c>parameters.retry_after</c>).</summary>
    public async Task PauseAsync(TimeSpan retryAfter, CancellationToken ct)
    {
        await EnsureCreatedAsync(ct);
        var greatest = _db.Dialect.GreatestFunction;
        await using var connection = await _db.OpenAsync(ct);
        await using var command = connection.CreateCommand($"""
            UPDATE send_lanes SET paused_until_us = {greatest}(paused_until_us, @until), next_slot_us = {greatest}(next_slot_us, @until)
            WHERE name = @name
            """);
        command.AddParameter("until", ToMicroseconds(_time.GetUtcNow() + retryAfter));
        command.AddParameter("name", _name);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Takes <paramref name="count"/> consecutive global slots, none before now, the pause's end or
    /// <paramref name="notBefore"/>, in one statement; returns the first. The row lock (PostgreSQL) or the single
    /// writer (SQLite) orders concurrent reservations, each starting where the previous one ended.
    /// </summary>
    private async Task<long> ReserveSlotsAsync(int count, long notBefore, CancellationToken ct)
    {
        await using var connection = await _db.OpenAsync(ct);
        await using var command = connection.CreateCommand($"""
            UPDATE send_lanes SET next_slot_us = {_db.Dialect.GreatestFunction}(next_slot_us, paused_until_us, @now, @not_before) + @span
            WHERE name = @name
            RETURNING next_slot_us - @span
            """);
        command.AddParameter("now", ToMicroseconds(_time.GetUtcNow()));
        command.AddParameter("not_before", notBefore);
        command.AddParameter("span", count * _intervalUs);
        command.AddParameter("name", _name);
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A slot from the next reservation this process makes, shared with every sender waiting for one.</summary>
    private Task<long> ReserveBatchedAsync(CancellationToken ct)
    {
        var slot = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (_gate)
        {
            _waiting.Add(slot);
            start = !_reserving;
            _reserving = true;
        }

        if (start)
        {
            _ = Task.Run(ReserveForWaitingAsync, CancellationToken.None);
        }

        // A caller that gives up leaves its slot unused: the pace only gets slower.
        return slot.Task.WaitAsync(ct);
    }

    private async Task ReserveForWaitingAsync()
    {
        while (true)
        {
            List<TaskCompletionSource<long>> batch;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _reserving = false;
                    return;
                }

                batch = _waiting;
                _waiting = [];
            }

            try
            {
                var first = await ReserveSlotsAsync(batch.Count, long.MinValue, CancellationToken.None);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].TrySetResult(first + (i * _intervalUs));
                }
            }
            catch (Exception e)
            {
                foreach (var waiter in batch)
                {
                    waiter.TrySetException(e);
                }
            }
        }
    }

    /// <summary>
    /// Why private chats are spaced in each process, not in the database: the Bot API FAQ asks to "avoid sending more
    /// than one message per second" to a chat and allows "short bursts that go over this limit"; one send's messages
    /// to a chat (a digest's parts) are in one dispatch chunk, sent in order by one job, so only two sends overlapping
    /// in two processes can meet at one private chat, for a message or two. A database row per chat would cost a
    /// write per message, which on SQLite caps the lane far below the paid 1000/s. Groups and channels get the
    /// database (<see cref="ClaimGroupAsync"/>): their 20 a minute is a hard limit, and every instance announcing a
    /// post sends to the same configured channels.
    /// Returns null when the chat is free at <paramref name="slot"/> (and takes it), else when it is free.
    /// </summary>
    private long? ClaimPrivateChat(long chatId, long slot)
    {
        lock (_gate)
        {
            if (_chatNext.TryGetValue(chatId, out var next) && next > slot)
            {
                return next;
            }

            if (_chatNext.Count >= PruneAbove)
            {
                var now = ToMicroseconds(_time.GetUtcNow());
                foreach (var stale in _chatNext.Where(c => c.Value <= now).Select(c => c.Key).ToList())
                {
                    _chatNext.Remove(stale);
                }
            }

            _chatNext[chatId] = slot + _chatIntervalUs;
            return null;
        }
    }

    /// <summary>
    /// A group's or channel's next slot, shared by all processes: taken when the group is free at
    /// <paramref name="slot"/> (null), in one upsert whose condition makes two processes never both take it; else
    /// when it is free.
    /// </summary>
    private async Task<long?> ClaimGroupAsync(long chatId, long slot, CancellationToken ct)
    {
        await using var connection = await _db.OpenAsync(ct);
        await using var claim = connection.CreateCommand("""
            INSERT INTO send_lane_chats (lane, chat_id, next_slot_us) VALUES (@lane, @chat, @next)
            ON CONFLICT (lane, chat_id) DO UPDATE SET next_slot_us = excluded.next_slot_us
            WHERE send_lane_chats.next_slot_us <= @slot
            RETURNING next_slot_us
            """);
        claim.AddParameter("lane", _name);
        claim.AddParameter("chat", chatId);
        claim.AddParameter("next", slot + _groupIntervalUs);
        claim.AddParameter("slot", slot);
        if (await claim.ExecuteScalarAsync(ct) is not null)
        {
            return null;
        }

        await using var read = connection.CreateCommand("SELECT next_slot_us FROM send_lane_chats WHERE lane = @lane AND chat_id = @chat");
        read.AddParameter("lane", _name);
        read.AddParameter("chat", chatId);
        return Convert.ToInt64(await read.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The lane's row, made once per process (the first process on a database inserts it).</summary>
    private async Task EnsureCreatedAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _created))
        {
            return;
        }

        await using var connection = await _db.OpenAsync(ct);
        await using var command = connection.CreateCommand(
            "INSERT INTO send_lanes (name, next_slot_us, paused_until_us) VALUES (@name, 0, 0) ON CONFLICT (name) DO NOTHING");
        command.AddParameter("name", _name);
        await command.ExecuteNonQueryAsync(ct);
        Volatile.Write(ref _created, true);
    }

    private static long ToMicroseconds(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    private static DateTimeOffset FromMicroseconds(long microseconds) => DateTimeOffset.UnixEpoch.AddTicks(microseconds * TimeSpan.TicksPerMicrosecond);
}
