using System.Data.Common;
using System.Globalization;
using System.Text.Json;

using NewsBot.Storage;
using NewsBot.Subscribers;
using NewsBot.Templates;

namespace NewsBot.Delivery;

/// <summary>A send as stored: what was asked, and how far it got.</summary>
public sealed record SendRecord(
    long Id,
    string Kind,
    long? PostId,
    Cadence? Cadence,
    IReadOnlyList<string> Channels,
    IReadOnlyList<string>? Topics,
    bool DryRun,
    string RequestedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? PlannedAt,
    DateTimeOffset? FinishedAt,
    int Total,
    DateTimeOffset? Since = null,
    DateTimeOffset? PausedAt = null,
    string? PauseReason = null);

/// <summary>One message of a send rendered once: a (template, topic set, period) variant in one format.</summary>
public sealed record SendMessage(string Variant, MessageFormat Format, string Subject, string Body);

/// <summary>A ledger row to add: one subscriber on one channel, and which variant of the send it gets.</summary>
/// <param name="Part">Which message of a variant sent in several (a split Telegram digest), from 1; 0 when it is sent whole.</param>
public sealed record NewDelivery(long SubscriberId, string Channel, string Address, string Variant, int Part = 0);

/// <summary>
/// A ledger row claimed for sending, leased to this instance until <paramref name="LeaseUntil"/>. The claim is known
/// by the instance and <paramref name="Attempts"/>: every claim of a row counts an attempt, so a later claim of the
/// same row, even by the same instance, is another claim.
/// </summary>
public sealed record ClaimedDelivery(long Id, long SubscriberId, string Channel, string Address, string Variant, string IdempotencyKey, int Attempts,
    DateTimeOffset LeaseUntil);

/// <summary>The rows of a chunk a renewal kept, and their new lease end.</summary>
public sealed record DeliveryLease(DateTimeOffset Until, IReadOnlySet<long> DeliveryIds);

/// <summary>A failed ledger row, for the send report.</summary>
public sealed record DeliveryError(long Id, long SubscriberId, string Channel, string Address, DeliveryState State, string? Error, int Attempts);

/// <summary>Ledger rows of one send with ids in <c>[FirstId, LastId]</c>: the unit of one dispatch job.</summary>
public sealed record DeliveryRange(long FirstId, long LastId, int Count);

/// <summary>
/// The delivery ledger. Each row moves pending -> sending -> sent | failed-* | skipped; only a claim (one UPDATE ...
/// RETURNING) moves rows to sending, and it takes only pending and failed-transient rows, so a sent row is never
/// handed out again, whoever runs the job and however often. Several processes share one ledger: a claim leases its
/// rows to <paramref name="instanceName"/> for <paramref name="leaseDuration"/>, the job renews the lease while it
/// sends, and a row whose lease ran out (its process died) goes back to pending (<see cref="ReleaseExpiredLeasesAsync"/>).
/// </summary>
public sealed class DeliveryStore(Db db, TimeProvider time, string instanceName, TimeSpan leaseDuration)
{
    private const string SendColumns =
        "id, kind, post_id, cadence, channels, topics, dry_run, requested_by, created_at, planned_at, finished_at, total, since, paused_at, pause_reason";

    /// <param name="part">The part of a message sent in several (a split Telegram digest), from 1; 0 for a message sent whole.</param>
    /// <summary>The owner written on the rows this store claims (<c>NewsBot:InstanceName</c>).</summary>
    public string InstanceName => instanceName;

    /// <summary>How long a claim or a renewal holds its rows (<c>NewsBot:Delivery:LeaseDuration</c>).</summary>
    public TimeSpan LeaseDuration => leaseDuration;

    public static string IdempotencyKey(long sendId, long subscriberId, string channel, int part = 0) =>
        part == 0 ? $"send:{sendId}:sub:{subscriberId}:{channel}" : $"send:{sendId}:sub:{subscriberId}:{channel}:part:{part}";

    public static string StateName(DeliveryState state) => state switch
    {
        DeliveryState.Pending => "pending",
        DeliveryState.Sending => "sending",
        DeliveryState.Sent => "sent",
        DeliveryState.FailedTransient => "failed-transient",
        DeliveryState.FailedPermanent => "failed-permanent",
        DeliveryState.Skipped => "skipped",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown delivery state."),
    };

    public static DeliveryState ParseState(string name) => name switch
    {
        "pending" => DeliveryState.Pending,
        "sending" => DeliveryState.Sending,
        "sent" => DeliveryState.Sent,
        "failed-transient" => DeliveryState.FailedTransient,
        "failed-permanent" => DeliveryState.FailedPermanent,
        "skipped" => DeliveryState.Skipped,
        _ => throw new FormatException($"Stored delivery state '{name}' is unknown."),
    };

    /// <summary>
    /// Records a send and returns its id, or null when ingestion already announced this post (the unique index
    /// <c>sends_ingest_post</c>), so a re-run announce job creates no second send.
    /// </summary>
    public async Task<long?> CreateSendAsync(string kind, long? postId, Cadence? cadence, IReadOnlyList<string> channels,
        IReadOnlyList<string>? topics, bool dryRun, string requestedBy, DateTimeOffset? since, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("""
            INSERT INTO sends (kind, post_id, cadence, channels, topics, dry_run, requested_by, created_at, since)
            VALUES (@kind, @post_id, @cadence, @channels, @topics, @dry_run, @requested_by, @now, @since)
            ON CONFLICT DO NOTHING
            RETURNING id
            """);
        command.AddParameter("kind", kind);
        command.AddParameter("post_id", postId);
        command.AddParameter("cadence", cadence?.ToString().ToLowerInvariant());
        command.AddParameter("channels", JsonSerializer.Serialize(channels));
        command.AddParameter("topics", topics is null ? null : JsonSerializer.Serialize(topics));
        command.AddParameter("dry_run", dryRun ? 1 : 0);
        command.AddParameter("requested_by", requestedBy);
        command.AddParameter("now", time.GetUtcNow());
        command.AddParameter("since", since);
        return await command.ExecuteScalarAsync(ct) is long id ? id : null;
    }

    public async Task<SendRecord?> GetSendAsync(long sendId, CancellationToken ct)
    {
        var sends = await ReadSendsAsync($"SELECT {SendColumns} FROM sends WHERE id = @id", sendId, ct);
        return sends.Count == 0 ? null : sends[0];
    }

    /// <summary>The send ingestion made for a post, if any.</summary>
    public async Task<SendRecord?> FindIngestSendAsync(long postId, CancellationToken ct)
    {
        var sends = await ReadSendsAsync(
            $"SELECT {SendColumns} FROM sends WHERE kind = 'post' AND requested_by = 'ingest' AND post_id = @id", postId, ct);
        return sends.Count == 0 ? null : sends[0];
    }

    /// <summary>The newest real sends (dry runs are never stored), newest first.</summary>
    public Task<IReadOnlyList<SendRecord>> ListLatestSendsAsync(int count, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return ReadSendsAsync($"SELECT {SendColumns} FROM sends WHERE dry_run = 0 ORDER BY id DESC LIMIT @count", count, ct, "count");
    }

    /// <summary>Sends that are not finished: still planning (planned_at null) or with rows left to send.</summary>
    public Task<IReadOnlyList<SendRecord>> ListUnfinishedSendsAsync(CancellationToken ct) =>
        ReadSendsAsync($"SELECT {SendColumns} FROM sends WHERE finished_at IS NULL AND dry_run = 0 ORDER BY id", null, ct);

    /// <summary>Stores the rendered content; a variant stored before (a re-planned send) keeps its first rendering.</summary>
    public async Task SaveMessagesAsync(long sendId, IReadOnlyList<SendMessage> messages, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var insert = connection.CreateCommand("""
            INSERT INTO send_messages (send_id, variant, format, subject, body)
            VALUES (@send_id, @variant, @format, @subject, @body)
            ON CONFLICT DO NOTHING
            """, transaction);
        insert.AddParameter("send_id", sendId);
        foreach (var name in (string[])["variant", "format", "subject", "body"])
        {
            insert.AddParameter(name, null);
        }

        foreach (var message in messages)
        {
            insert.SetParameter("variant", message.Variant);
            insert.SetParameter("format", message.Format.ToString());
            insert.SetParameter("subject", message.Subject);
            insert.SetParameter("body", message.Body);
            await insert.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<SendMessage>> GetMessagesAsync(long sendId, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand(
            "SELECT variant, format, subject, body FROM send_messages WHERE send_id = @send_id ORDER BY variant, format");
        command.AddParameter("send_id", sendId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var messages = new List<SendMessage>();
        while (await reader.ReadAsync(ct))
        {
            var format = reader.GetString(1);
            messages.Add(new SendMessage(
                reader.GetString(0),
                Enum.TryParse<MessageFormat>(format, out var f) ? f : throw new FormatException($"Stored message format '{format}' of send {sendId} is unknown."),
                reader.GetString(2),
                reader.GetString(3)));
        }

        return messages;
    }

    /// <summary>A writer of ledger rows for one send: one connection and one prepared insert for the whole planning.</summary>
    public async Task<LedgerWriter> OpenLedgerWriterAsync(long sendId, CancellationToken ct)
    {
        var connection = await db.OpenAsync(ct);
        return new LedgerWriter(connection, sendId, time);
    }

    /// <summary>
    /// Moves the rows of <paramref name="sendId"/> with ids in the range that are pending or failed-transient to
    /// sending, counting an attempt and leasing them to this instance, in one statement: two jobs running the same
    /// range, in one process or several, never both get a row. A paused send gives none.
    /// </summary>
    public async Task<IReadOnlyList<ClaimedDelivery>> ClaimAsync(long sendId, long firstId, long lastId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var until = LeaseEnd(now);
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand(db.Dialect.ClaimDeliveriesSql);
        command.AddParameter("now", now);
        command.AddParameter("owner", instanceName);
        command.AddParameter("until", until);
        command.AddParameter("send_id", sendId);
        command.AddParameter("first", firstId);
        command.AddParameter("last", lastId);
        var claimed = new List<ClaimedDelivery>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                claimed.Add(new ClaimedDelivery(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3),
                    reader.GetString(4), reader.GetString(5), reader.GetInt32(6), until));
            }
        }

        // RETURNING gives no order (https://sqlite.org/lang_returning.html §2, and neither does PostgreSQL); send in ledger order.
        claimed.Sort((a, b) => a.Id.CompareTo(b.Id));
        return claimed;
    }

    /// <summary>
    /// Renews the lease of the rows of the chunk <c>[firstId, lastId]</c> that this instance still holds from the
    /// claim whose lease ends at <paramref name="heldUntil"/>, in one statement; returns the rows kept. A row
    /// another instance released (the lease ran out) or re-claimed is not among them.
    /// </summary>
    public async Task<DeliveryLease> RenewLeaseAsync(long sendId, long firstId, long lastId, DateTimeOffset heldUntil, CancellationToken ct)
    {
        var until = LeaseEnd(time.GetUtcNow());
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("""
            UPDATE deliveries SET lease_until = @until
            WHERE send_id = @send_id AND id BETWEEN @first AND @last AND state = 'sending'
              AND lease_owner = @owner AND lease_until = @held
            RETURNING id
            """);
        command.AddParameter("until", until);
        command.AddParameter("send_id", sendId);
        command.AddParameter("first", firstId);
        command.AddParameter("last", lastId);
        command.AddParameter("owner", instanceName);
        command.AddParameter("held", heldUntil);
        var ids = new HashSet<long>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetInt64(0));
        }

        return new DeliveryLease(until, ids);
    }

    public Task MarkSentAsync(long deliveryId, CancellationToken ct) =>
        MarkAsync(deliveryId, null, DeliveryState.Sent, "last_error = NULL, sent_at = @now", null, ct);

    public Task MarkFailedAsync(long deliveryId, bool permanent, string error, CancellationToken ct) =>
        MarkAsync(deliveryId, null, permanent ? DeliveryState.FailedPermanent : DeliveryState.FailedTransient, "last_error = @detail", error, ct);

    public Task MarkSkippedAsync(long deliveryId, string reason, CancellationToken ct) =>
        MarkAsync(deliveryId, null, DeliveryState.Skipped, "skip_reason = @detail", reason, ct);

    /// <summary>
    /// Records the outcome of a claimed row only while this claim holds it; false when it does not (its lease ran
    /// out and another instance has the row now, whose outcome counts instead).
    /// </summary>
    public Task<bool> MarkSentAsync(ClaimedDelivery row, CancellationToken ct) =>
        MarkAsync(row.Id, row, DeliveryState.Sent, "last_error = NULL, sent_at = @now", null, ct);

    /// <inheritdoc cref="MarkSentAsync(ClaimedDelivery, CancellationToken)"/>
    public Task<bool> MarkFailedAsync(ClaimedDelivery row, bool permanent, string error, CancellationToken ct) =>
        MarkAsync(row.Id, row, permanent ? DeliveryState.FailedPermanent : DeliveryState.FailedTransient, "last_error = @detail", error, ct);

    /// <inheritdoc cref="MarkSentAsync(ClaimedDelivery, CancellationToken)"/>
    public Task<bool> MarkSkippedAsync(ClaimedDelivery row, string reason, CancellationToken ct) =>
        MarkAsync(row.Id, row, DeliveryState.Skipped, "skip_reason = @detail", reason, ct);

    /// <summary>Rows per state of one send; states without rows count 0.</summary>
    public async Task<IReadOnlyDictionary<DeliveryState, int>> CountStatesAsync(long sendId, CancellationToken ct)
    {
        var counts = Enum.GetValues<DeliveryState>().ToDictionary(s => s, _ => 0);
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("SELECT state, COUNT(*) FROM deliveries WHERE send_id = @send_id GROUP BY state");
        command.AddParameter("send_id", sendId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            counts[ParseState(reader.GetString(0))] = reader.GetInt32(1);
        }

        return counts;
    }

    /// <summary>The address a ledger row was for (a bounce names the row, not the address); null when no row has the key.</summary>
    public async Task<string?> FindAddressAsync(string idempotencyKey, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("SELECT address FROM deliveries WHERE idempotency_key = @key");
        command.AddParameter("key", idempotencyKey);
        return await command.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>The first <paramref name="count"/> failed rows of a send, most attempts first.</summary>
    public async Task<IReadOnlyList<DeliveryError>> ListErrorsAsync(long sendId, int count, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("""
            SELECT id, subscriber_id, channel, address, state, last_error, attempts FROM deliveries
            WHERE send_id = @send_id AND state IN ('failed-transient', 'failed-permanent')
            ORDER BY attempts DESC, id
            LIMIT @count
            """);
        command.AddParameter("send_id", sendId);
        command.AddParameter("count", count);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var errors = new List<DeliveryError>();
        while (await reader.ReadAsync(ct))
        {
            errors.Add(new DeliveryError(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3),
                ParseState(reader.GetString(4)), reader.GetNullableString(5), reader.GetInt32(6)));
        }

        return errors;
    }

    /// <summary>
    /// Rows whose lease ran out (the process holding them died, or lost the database for a whole lease) go back to
    /// pending, in one statement; returns them as the chunks they were claimed in (one per send and lease), to be
    /// dispatched again. A row sent just before its process died is sent again, which is why channels deduplicate
    /// on the idempotency key. Two instances sweeping at once never both get a row.
    /// </summary>
    public async Task<IReadOnlyList<(long SendId, DeliveryRange Range)>> ReleaseExpiredLeasesAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand(db.Dialect.ReleaseExpiredLeasesSql);
        command.AddParameter("now", time.GetUtcNow());
        var claims = new Dictionary<(long SendId, string? Owner, string? Until), List<long>>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var key = (reader.GetInt64(1), reader.GetNullableString(2), reader.GetNullableString(3));
                if (!claims.TryGetValue(key, out var ids))
                {
                    claims[key] = ids = [];
                }

                ids.Add(reader.GetInt64(0));
            }
        }

        return claims.OrderBy(c => c.Key.SendId).ThenBy(c => c.Value.Min())
            .Select(c => (c.Key.SendId, new DeliveryRange(c.Value.Min(), c.Value.Max(), c.Value.Count))).ToList();
    }

    /// <summary>Claimed rows a stopped job did not get to go back to pending, those this claim still holds.</summary>
    public async Task ReleaseAsync(IReadOnlyList<ClaimedDelivery> rows, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var release = connection.CreateCommand(
            "UPDATE deliveries SET state = 'pending', updated_at = @now WHERE id = @id AND state = 'sending' AND lease_owner = @owner AND attempts = @attempts",
            transaction);
        release.AddParameter("now", time.GetUtcNow());
        release.AddParameter("owner", instanceName);
        release.AddParameter("id", null);
        release.AddParameter("attempts", null);
        foreach (var row in rows)
        {
            release.SetParameter("id", row.Id);
            release.SetParameter("attempts", row.Attempts);
            await release.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }

    /// <summary>
    /// The pending rows of a send as id ranges of about <paramref name="chunkSize"/> rows, in id order. A range
    /// ends only where no recipient has rows on both sides, so the parts of a split message stay in one job,
    /// which sends them in order.
    /// </summary>
    public async Task<IReadOnlyList<DeliveryRange>> ListPendingRangesAsync(long sendId, int chunkSize, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("""
            SELECT id, MAX(id) OVER (PARTITION BY subscriber_id, channel)
            FROM deliveries WHERE send_id = @send_id AND state = 'pending' ORDER BY id
            """);
        command.AddParameter("send_id", sendId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var ranges = new List<DeliveryRange>();
        long first = 0;
        long last = 0;
        long reach = 0;
        var count = 0;
        while (await reader.ReadAsync(ct))
        {
            last = reader.GetInt64(0);
            reach = Math.Max(reach, reader.GetInt64(1));
            if (count == 0)
            {
                first = last;
            }

            if (++count >= chunkSize && reach == last)
            {
                ranges.Add(new DeliveryRange(first, last, count));
                count = 0;
            }
        }

        if (count > 0)
        {
            ranges.Add(new DeliveryRange(first, last, count));
        }

        return ranges;
    }

    /// <summary>
    /// Stops a send: no row of it is claimed until <see cref="RetryFailedAsync"/>. True only for the call that paused
    /// it, so the admin is told once.
    /// </summary>
    public async Task<bool> PauseSendAsync(long sendId, string reason, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand(
            "UPDATE sends SET paused_at = @now, pause_reason = @reason WHERE id = @send_id AND paused_at IS NULL");
        command.AddParameter("now", time.GetUtcNow());
        command.AddParameter("reason", reason);
        command.AddParameter("send_id", sendId);
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>
    /// Failed rows of a send go back to pending and the send is open again, and no longer paused; returns how many
    /// rows were failed.
    /// </summary>
    public async Task<int> RetryFailedAsync(long sendId, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var retry = connection.CreateCommand("""
            UPDATE deliveries SET state = 'pending', updated_at = @now
            WHERE send_id = @send_id AND state IN ('failed-transient', 'failed-permanent')
            """, transaction);
        retry.AddParameter("now", time.GetUtcNow());
        retry.AddParameter("send_id", sendId);
        var count = await retry.ExecuteNonQueryAsync(ct);
        await using var resume = connection.CreateCommand(
            "UPDATE sends SET paused_at = NULL, pause_reason = NULL WHERE id = @send_id AND paused_at IS NOT NULL", transaction);
        resume.AddParameter("send_id", sendId);
        await resume.ExecuteNonQueryAsync(ct);
        if (count > 0)
        {
            await using var reopen = connection.CreateCommand("UPDATE sends SET finished_at = NULL WHERE id = @send_id", transaction);
            reopen.AddParameter("send_id", sendId);
            await reopen.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return count;
    }

    /// <summary>Planning is complete: every row exists. <c>total</c> is counted, so a resumed planning counts once.</summary>
    public async Task MarkPlannedAsync(long sendId, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("""
            UPDATE sends SET planned_at = coalesce(planned_at, @now),
                             total = (SELECT COUNT(*) FROM deliveries WHERE send_id = @send_id)
            WHERE id = @send_id
            """);
        command.AddParameter("now", time.GetUtcNow());
        command.AddParameter("send_id", sendId);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Sets finished_at when the send is planned and no row is pending or sending; true only for the call that
    /// finished it. Failed rows do not hold a send open: they wait for an admin's retry.
    /// </summary>
    public async Task<bool> TryFinishSendAsync(long sendId, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("""
            UPDATE sends SET finished_at = @now
            WHERE id = @send_id AND finished_at IS NULL AND planned_at IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM deliveries WHERE send_id = @send_id AND state IN ('pending', 'sending'))
            """);
        command.AddParameter("now", time.GetUtcNow());
        command.AddParameter("send_id", sendId);
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Rounded to the stored milliseconds: a renewal names a claim's rows by this exact value.</summary>
    private DateTimeOffset LeaseEnd(DateTimeOffset now) => DbExtensions.ParseTimestamp(DbExtensions.FormatTimestamp(now + leaseDuration));

    /// <summary>With <paramref name="claim"/>, only while that claim holds the row (false otherwise); without, any row.</summary>
    private async Task<bool> MarkAsync(long deliveryId, ClaimedDelivery? claim, DeliveryState state, string set, string? detail, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand(
            $"UPDATE deliveries SET state = @state, updated_at = @now, {set} WHERE id = @id"
            + (claim is null ? "" : " AND state = 'sending' AND lease_owner = @owner AND attempts = @attempts"));
        command.AddParameter("state", StateName(state));
        command.AddParameter("now", time.GetUtcNow());
        command.AddParameter("id", deliveryId);
        if (detail is not null)
        {
            command.AddParameter("detail", detail);
        }

        if (claim is not null)
        {
            command.AddParameter("owner", instanceName);
            command.AddParameter("attempts", claim.Attempts);
            return await command.ExecuteNonQueryAsync(ct) == 1;
        }

        if (await command.ExecuteNonQueryAsync(ct) != 1)
        {
            throw new InvalidOperationException($"Delivery {deliveryId} is not in the ledger of the {db}.");
        }

        return true;
    }

    private async Task<IReadOnlyList<SendRecord>> ReadSendsAsync(string sql, long? id, CancellationToken ct, string parameter = "id")
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand(sql);
        if (id is not null)
        {
            command.AddParameter(parameter, id);
        }

        await using var reader = await command.ExecuteReaderAsync(ct);
        var sends = new List<SendRecord>();
        while (await reader.ReadAsync(ct))
        {
            var cadence = reader.GetNullableString(3);
            var topics = reader.GetNullableString(5);
            sends.Add(new SendRecord(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetInt64(2),
                cadence is null ? null : Enum.Parse<Cadence>(cadence, ignoreCase: true),
                JsonSerializer.Deserialize<string[]>(reader.GetString(4)) ?? [],
                topics is null ? null : JsonSerializer.Deserialize<string[]>(topics),
                reader.GetInt64(6) != 0,
                reader.GetString(7),
                reader.GetTimestamp(8),
                reader.GetNullableTimestamp(9),
                reader.GetNullableTimestamp(10),
                reader.GetInt32(11),
                reader.GetNullableTimestamp(12),
                reader.GetNullableTimestamp(13),
                reader.GetNullableString(14)));
        }

        return sends;
    }
}

/// <summary>
/// Adds ledger rows of one send in chunks, one transaction per chunk, through one prepared
/// <c>INSERT ... ON CONFLICT (idempotency_key) DO NOTHING</c>: the hot path of a send to a million subscribers.
/// </summary>
public sealed class LedgerWriter : IAsyncDisposable
{
    private readonly DbConnection _connection;
    private readonly long _sendId;
    private readonly TimeProvider _time;
    private DbCommand? _insert;

    internal LedgerWriter(DbConnection connection, long sendId, TimeProvider time)
    {
        _connection = connection;
        _sendId = sendId;
        _time = time;
    }

    /// <summary>Adds the rows not already in the ledger and returns the range of ids inserted (null when none were new).</summary>
    public async Task<DeliveryRange?> AddAsync(IReadOnlyList<NewDelivery> rows, CancellationToken ct)
    {
        await using var transaction = await _connection.BeginTransactionAsync(ct);
        if (_insert is null)
        {
            _insert = _connection.CreateCommand("""
                INSERT INTO deliveries (send_id, subscriber_id, channel, address, variant, idempotency_key, state, updated_at)
                VALUES (@send_id, @subscriber_id, @channel, @address, @variant, @key, 'pending', @now)
                ON CONFLICT (idempotency_key) DO NOTHING
                RETURNING id
                """);
            _insert.AddParameter("send_id", _sendId);
            foreach (var name in (string[])["subscriber_id", "channel", "address", "variant", "key", "now"])
            {
                _insert.AddParameter(name, null);
            }
        }

        _insert.Transaction = transaction;
        await _insert.PrepareAsync(ct);
        _insert.SetParameter("now", _time.GetUtcNow());
        long first = long.MaxValue;
        long last = long.MinValue;
        var count = 0;
        foreach (var row in rows)
        {
            _insert.SetParameter("subscriber_id", row.SubscriberId);
            _insert.SetParameter("channel", row.Channel);
            _insert.SetParameter("address", row.Address);
            _insert.SetParameter("variant", row.Variant);
            _insert.SetParameter("key", DeliveryStore.IdempotencyKey(_sendId, row.SubscriberId, row.Channel, row.Part));
            if (await _insert.ExecuteScalarAsync(ct) is long id)
            {
                first = Math.Min(first, id);
                last = Math.Max(last, id);
                count++;
            }
        }

        await transaction.CommitAsync(ct);
        return count == 0 ? null : new DeliveryRange(first, last, count);
    }

    public async ValueTask DisposeAsync()
    {
        if (_insert is not null)
        {
            await _insert.DisposeAsync();
        }

        await _connection.DisposeAsync();
    }
}
