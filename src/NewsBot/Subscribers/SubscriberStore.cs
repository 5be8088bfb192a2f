using System.Data.Common;
using System.Globalization;
using System.Net.Mail;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

using NewsBot.Storage;
using NewsBot.Topics;

namespace NewsBot.Subscribers;

/// <summary>
/// Subscribers, their channels and topics, and the suppression list. Every input is checked here: emails are
/// stored trimmed and lower-cased, Telegram addresses are chat ids, time zones are IANA ids this machine knows.
/// </summary>
public sealed partial class SubscriberStore(Db db, TimeProvider time)
{
    /// <summary>The columns of an import file, in the order the documentation lists them.</summary>
    public static readonly IReadOnlyList<string> CsvColumns = ["email", "telegram", "topics", "cadence", "time_zone", "name"];

    /// <summary><c>subscribers.kind</c> of a configured Telegram channel or group (migration 0004).</summary>
    private const string BroadcastKind = "broadcast";

    private const int ImportBatchSize = 1_000;
    private const int SeedBatchSize = 10_000;
    private const int MaxPageSize = 10_000;

    // Chunk for IN lists: far below every provider's parameter limit (SQLite: 32766, PostgreSQL: 65535).
    private const int InListSize = 500;

    /// <summary>Adds one subscriber with its channels and topics and returns its id.</summary>
    /// <exception cref="SubscriberException">A field is invalid, or an address belongs to another subscriber.</exception>
    public async Task<long> AddAsync(NewSubscriber subscriber, CancellationToken ct)
    {
        var valid = Validate(subscriber, null);
        await using var connection = await db.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var writer = await SubscriberWriter.CreateAsync(connection, transaction, time.GetUtcNow(), ct);
        var (id, conflict) = await writer.InsertAsync(valid, ct);
        if (conflict is not null)
        {
            throw new SubscriberException(conflict);
        }

        await transaction.CommitAsync(ct);
        return id;
    }

    /// <summary>
    /// Bulk insert for seeding large databases (benchmarks, tests, migrations from another tool): prepared
    /// commands, one transaction per 10,000 subscribers. Input is checked as in <see cref="AddAsync"/>; a bad row
    /// or a taken address stops the seed, keeping the batches committed before it.
    /// </summary>
    public async Task SeedAsync(IEnumerable<NewSubscriber> subscribers, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        foreach (var batch in subscribers.Chunk(SeedBatchSize))
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await using var writer = await SubscriberWriter.CreateAsync(connection, transaction, time.GetUtcNow(), ct);
            foreach (var subscriber in batch)
            {
                var (_, conflict) = await writer.InsertAsync(Validate(subscriber, null), ct);
                if (conflict is not null)
                {
                    throw new SubscriberException(conflict);
                }
            }

            await transaction.CommitAsync(ct);
        }
    }

    public async Task<Subscriber?> GetAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        var found = await ReadSubscribersAsync(connection, "WHERE id = @id", id, 1, ct);
        return found.Count == 0 ? null : found[0];
    }

    /// <summary>The subscriber holding <paramref name="address"/> on <paramref name="channel"/>, whatever its status; null when none does.</summary>
    /// <exception cref="SubscriberException">The address is not one of that channel.</exception>
    public async Task<Subscriber?> FindByAddressAsync(string channel, string address, CancellationToken ct)
    {
        var normalized = NormalizeAddress(channel, address);
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand(
            "SELECT subscriber_id FROM subscriber_channels WHERE channel = @channel AND address = @address");
        command.AddParameter("channel", channel);
        command.AddParameter("address", normalized);
        if (await command.ExecuteScalarAsync(ct) is not long id)
        {
            return null;
        }

        var found = await ReadSubscribersAsync(connection, "WHERE id = @id", id, 1, ct);
        return found.Count == 0 ? null : found[0];
    }

    /// <summary>Subscribers by id, the <paramref name="limit"/> after <paramref name="afterId"/> (0 for the first page).</summary>
    public async Task<IReadOnlyList<Subscriber>> ListAsync(int limit, long afterId, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxPageSize);
        await using var connection = await db.OpenAsync(ct);
        return await ReadSubscribersAsync(connection, "WHERE id > @id", afterId, limit, ct);
    }

    public async Task<int> CountAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("SELECT COUNT(*) FROM subscribers");
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    /// <summary>Sets the status of the channel holding <paramref name="address"/> (a confirmation, an unsubscribe, a bounce).</summary>
    /// <exception cref="SubscriberException">The address is invalid or no subscriber has it.</exception>
    public async Task SetChannelStatusAsync(string channel, string address, ChannelStatus status, CancellationToken ct)
    {
        var normalized = NormalizeAddress(channel, address);
        CheckStatus(status);
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("""
            UPDATE subscriber_channels SET status = @status, status_changed_at = @now
            WHERE channel = @channel AND address = @address
            """);
        command.AddParameter("status", FormatStatus(status));
        command.AddParameter("now", time.GetUtcNow());
        command.AddParameter("channel", channel);
        command.AddParameter("address", normalized);
        if (await command.ExecuteNonQueryAsync(ct) == 0)
        {
            throw new SubscriberException($"{channel} '{normalized}' belongs to no subscriber");
        }
    }

    /// <summary>
    /// Sets the status of one channel of a subscriber, but only while it is one of <paramref name="from"/>: a
    /// confirmation moves pending to active and nothing else, whatever happened since the link was sent.
    /// </summary>
    /// <returns>False when the channel was in another status or does not exist; nothing changed then.</returns>
    public async Task<bool> ChangeChannelStatusAsync(
        long subscriberId, string channel, IReadOnlyCollection<ChannelStatus> from, ChannelStatus to, CancellationToken ct)
    {
        CheckChannel(channel);
        CheckStatus(to);
        if (from.Count == 0)
        {
            return false;
        }

        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand($"""
            UPDATE subscriber_channels SET status = @status, status_changed_at = @now
            WHERE subscriber_id = @id AND channel = @channel AND status IN ({InList(from.Count)})
            """);
        command.AddParameter("status", FormatStatus(to));
        command.AddParameter("now", time.GetUtcNow());
        command.AddParameter("id", subscriberId);
        command.AddParameter("channel", channel);
        var i = 0;
        foreach (var status in from)
        {
            command.AddParameter("p" + i++, FormatStatus(status));
        }

        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>
    /// Moves a channel to a new address, keeping its subscriber, status and history: a Telegram group upgraded to a
    /// supergroup gets a new chat id (Bot API ResponseParameters.migrate_to_chat_id).
    /// </summary>
    /// <exception cref="SubscriberException">An address is invalid, no subscriber has the old one, or another has the new one.</exception>
    public async Task RekeyAddressAsync(string channel, string oldAddress, string newAddress, CancellationToken ct)
    {
        var from = NormalizeAddress(channel, oldAddress);
        var to = NormalizeAddress(channel, newAddress);
        await using var connection = await db.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var owner = connection.CreateCommand(
            "SELECT subscriber_id FROM subscriber_channels WHERE channel = @channel AND address = @address", transaction))
        {
            owner.AddParameter("channel", channel);
            owner.AddParameter("address", to);
            if (from != to && await owner.ExecuteScalarAsync(ct) is { } taken)
            {
                throw new SubscriberException($"{channel} '{to}' already belongs to subscriber {taken}; '{from}' keeps its address");
            }
        }

        await using (var update = connection.CreateCommand("""
            UPDATE subscriber_channels SET address = @to, status_changed_at = @now
            WHERE channel = @channel AND address = @from
            """, transaction))
        {
            update.AddParameter("to", to);
            update.AddParameter("now", time.GetUtcNow());
            update.AddParameter("channel", channel);
            update.AddParameter("from", from);
            if (await update.ExecuteNonQueryAsync(ct) == 0)
            {
                throw new SubscriberException($"{channel} '{from}' belongs to no subscriber");
            }
        }

        await transaction.CommitAsync(ct);
    }

    /// <summary>Replaces the subscriber's topics; an empty list means all topics.</summary>
    public async Task SetTopicsAsync(long id, IReadOnlyList<string> topics, CancellationToken ct)
    {
        var normalized = NormalizeTopics(topics, null);
        await using var connection = await db.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await CheckExistsAsync(connection, transaction, id, ct);
        await ReplaceTopicsAsync(connection, transaction, id, normalized, ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>
    /// Makes the broadcast subscribers match <paramref name="targets"/> (<c>NewsBot:Telegram:Channels</c>), in one
    /// transaction: each target is an active instant subscriber of its topics (a row of its own, or the chat's
    /// existing subscription taken over: the configuration wins), and a broadcast row no longer configured is
    /// unsubscribed, so the planner needs no special case.
    /// </summary>
    /// <exception cref="SubscriberException">A target's address or topic is invalid, or an address appears twice.</exception>
    public async Task<BroadcastSyncResult> SyncBroadcastsAsync(IReadOnlyList<BroadcastTarget> targets, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var wanted = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var target in targets)
        {
            var address = NormalizeAddress(Channels.Telegram, target.Address);
            if (!wanted.TryAdd(address, NormalizeTopics(target.Topics ?? [], null)))
            {
                throw new SubscriberException($"telegram '{address}' is configured twice");
            }
        }

        int added = 0, updated = 0, deactivated = 0;
        var now = time.GetUtcNow();
        await using var connection = await db.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var existing = new Dictionary<string, long>(StringComparer.Ordinal);
        var addresses = wanted.Keys.ToList();
        var configured = addresses.Count == 0 ? "" : $"OR c.address IN ({InList(addresses.Count)})";
        await using (var select = connection.CreateCommand($"""
            SELECT c.address, c.subscriber_id FROM subscriber_channels c JOIN subscribers s ON s.id = c.subscriber_id
            WHERE c.channel = @channel AND (s.kind = '{BroadcastKind}' {configured})
            """, transaction))
        {
            select.AddParameter("channel", Channels.Telegram);
            for (var i = 0; i < addresses.Count; i++)
            {
                select.AddParameter("p" + i, addresses[i]);
            }

            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                existing[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        await using var writer = await SubscriberWriter.CreateAsync(connection, transaction, now, ct);
        foreach (var (address, topics) in wanted)
        {
            long id;
            if (existing.TryGetValue(address, out id))
            {
                updated++;
            }
            else
            {
                string? conflict;
                (id, conflict) = await writer.InsertAsync(new ValidSubscriber(null, address, topics, Cadence.Instant, "UTC", address, ChannelStatus.Active), ct);
                if (conflict is not null)
                {
                    throw new SubscriberException(conflict);
                }

                added++;
            }

            await using (var update = connection.CreateCommand(
                $"UPDATE subscribers SET kind = '{BroadcastKind}', cadence = 'instant' WHERE id = @id", transaction))
            {
                update.AddParameter("id", id);
                await update.ExecuteNonQueryAsync(ct);
            }

            await SetStatusAsync(connection, transaction, address, ChannelStatus.Active, now, ct);
            await ReplaceTopicsAsync(connection, transaction, id, topics, ct);
        }

        foreach (var address in existing.Keys.Where(a => !wanted.ContainsKey(a)))
        {
            if (await SetStatusAsync(connection, transaction, address, ChannelStatus.Unsubscribed, now, ct))
            {
                deactivated++;
            }
        }

        await transaction.CommitAsync(ct);
        return new BroadcastSyncResult(added, updated, deactivated);
    }

    public async Task SetCadenceAsync(long id, Cadence cadence, CancellationToken ct)
    {
        CheckCadence(cadence);
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("UPDATE subscribers SET cadence = @cadence WHERE id = @id");
        command.AddParameter("cadence", FormatCadence(cadence));
        command.AddParameter("id", id);
        if (await command.ExecuteNonQueryAsync(ct) == 0)
        {
            throw new SubscriberException($"subscriber {id} does not exist");
        }
    }

    /// <summary>Records that these subscribers' digests went out at <paramref name="at"/>, in one transaction.</summary>
    public async Task MarkDigestSentAsync(IReadOnlyCollection<long> subscriberIds, DateTimeOffset at, CancellationToken ct)
    {
        if (subscriberIds.Count == 0)
        {
            return;
        }

        await using var connection = await db.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        foreach (var chunk in subscriberIds.Distinct().Chunk(InListSize))
        {
            await using var command = connection.CreateCommand(
                $"UPDATE subscribers SET last_digest_at = @at WHERE id IN ({InList(chunk.Length)})", transaction);
            command.AddParameter("at", at);
            AddInListParameters(command, chunk);
            await command.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }

    /// <summary>
    /// The active channels matching <paramref name="filter"/>, ordered by subscriber id and channel, read
    /// <paramref name="pageSize"/> rows at a time (keyset paging): memory stays constant whatever the number of
    /// subscribers, and no read transaction stays open while the caller works on a page.
    /// </summary>
    public async IAsyncEnumerable<Recipient> StreamRecipientsAsync(
        RecipientFilter filter, int pageSize, [EnumeratorCancellation] CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, MaxPageSize);
        var channels = filter.Channels.Distinct().ToList();
        foreach (var channel in channels)
        {
            CheckChannel(channel);
        }

        if (filter.Cadence is { } wanted)
        {
            CheckCadence(wanted);
        }

        if (channels.Count == 0)
        {
            yield break;
        }

        var topics = filter.AnyOfTopics?.Select(t => t.Trim().ToLowerInvariant()).Distinct().ToList();
        var topicFilter = topics switch
        {
            null => "",
            [] => "AND NOT EXISTS (SELECT 1 FROM subscriber_topics t WHERE t.subscriber_id = c.subscriber_id)",
            _ => $"""
                AND (NOT EXISTS (SELECT 1 FROM subscriber_topics t WHERE t.subscriber_id = c.subscriber_id)
                     OR EXISTS (SELECT 1 FROM subscriber_topics t WHERE t.subscriber_id = c.subscriber_id
                                AND t.topic IN ({string.Join(", ", topics.Select((_, i) => "@t" + i))})))
                """,
        };
        // The keyset condition is spelt out instead of a row value comparison so that every provider's planner
        // sees a range on the leading index column.
        var sql = $"""
            SELECT c.subscriber_id, c.channel, c.address, s.cadence, s.time_zone, s.last_digest_at, s.kind
            FROM subscriber_channels c JOIN subscribers s ON s.id = c.subscriber_id
            WHERE c.subscriber_id >= @after_id AND (c.subscriber_id > @after_id OR c.channel > @after_channel)
              AND c.status = 'active'
              AND c.channel IN ({string.Join(", ", channels.Select((_, i) => "@c" + i))})
              AND {(filter.Cadence is null ? "s.cadence <> 'off'" : "s.cadence = @cadence")}
              {topicFilter}
            ORDER BY c.subscriber_id, c.channel
            LIMIT @page_size
            """;

        await using var connection = await db.OpenAsync(ct);
        await using var page = connection.CreateCommand(sql);
        page.AddParameter("after_id", 0L);
        page.AddParameter("after_channel", "");
        page.AddParameter("page_size", pageSize);
        for (var i = 0; i < channels.Count; i++)
        {
            page.AddParameter("c" + i, channels[i]);
        }

        for (var i = 0; i < (topics?.Count ?? 0); i++)
        {
            page.AddParameter("t" + i, topics![i]);
        }

        if (filter.Cadence is { } cadence)
        {
            page.AddParameter("cadence", FormatCadence(cadence));
        }

        // One topics query per page: the id range of the page. Consecutive pages have disjoint ranges, so however
        // selective the filter, a whole stream reads each topic row at most once; rows of subscribers the filter
        // left out are dropped as they are read. (An IN list of the page's ids costs more: SQLite looks each
        // named parameter up by a linear search.)
        await using var pageTopics = connection.CreateCommand(
            "SELECT subscriber_id, topic FROM subscriber_topics WHERE subscriber_id BETWEEN @first AND @last ORDER BY subscriber_id, topic");
        pageTopics.AddParameter("first", 0L);
        pageTopics.AddParameter("last", 0L);
        await page.PrepareAsync(ct);
        await pageTopics.PrepareAsync(ct);
        var rows = new List<RecipientRow>(pageSize);
        var topicsById = new Dictionary<long, List<string>>();
        var topicNames = new Dictionary<string, string>(StringComparer.Ordinal);
        while (true)
        {
            rows.Clear();
            await using (var reader = await page.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    rows.Add(new RecipientRow(
                        reader.GetInt64(0),
                        // The constant instead of a new string per row.
                        reader.GetString(1) == Channels.Email ? Channels.Email : Channels.Telegram,
                        reader.GetString(2),
                        ParseCadence(reader.GetString(3)),
                        reader.GetString(4),
                        reader.GetNullableTimestamp(5),
                        reader.GetString(6) == BroadcastKind));
                }
            }

            if (rows.Count == 0)
            {
                yield break;
            }

            topicsById.Clear();
            foreach (var row in rows)
            {
                topicsById[row.SubscriberId] = [];
            }

            pageTopics.SetParameter("first", rows[0].SubscriberId);
            pageTopics.SetParameter("last", rows[^1].SubscriberId);
            await using (var reader = await pageTopics.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    if (!topicsById.TryGetValue(reader.GetInt64(0), out var list))
                    {
                        continue;
                    }

                    // Few distinct topic names: share one string per name instead of one per row.
                    var topic = reader.GetString(1);
                    if (!topicNames.TryGetValue(topic, out var shared))
                    {
                        topicNames[topic] = shared = topic;
                    }

                    list.Add(shared);
                }
            }

            foreach (var row in rows)
            {
                yield return new Recipient(
                    row.SubscriberId,
                    row.Channel,
                    row.Address,
                    topicsById[row.SubscriberId] is { Count: > 0 } list ? list : [],
                    row.Cadence,
                    row.TimeZone,
                    row.LastDigestAt,
                    row.Broadcast);
            }

            if (rows.Count < pageSize)
            {
                yield break;
            }

            page.SetParameter("after_id", rows[^1].SubscriberId);
            page.SetParameter("after_channel", rows[^1].Channel);
        }
    }

    /// <summary>
    /// Which of <paramref name="addresses"/> are suppressed on <paramref name="channel"/>: one query per 500
    /// addresses. Email addresses are compared case-insensitively, as they are stored lower-cased.
    /// </summary>
    public async Task<HashSet<string>> FindSuppressedAsync(string channel, IReadOnlyCollection<string> addresses, CancellationToken ct)
    {
        CheckChannel(channel);
        var suppressed = new HashSet<string>(channel == Channels.Email ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        if (addresses.Count == 0)
        {
            return suppressed;
        }

        await using var connection = await db.OpenAsync(ct);
        foreach (var chunk in addresses.Select(a => channel == Channels.Email ? a.Trim().ToLowerInvariant() : a.Trim()).Distinct().Chunk(InListSize))
        {
            await using var command = connection.CreateCommand(
                $"SELECT address FROM suppressions WHERE channel = @channel AND address IN ({InList(chunk.Length)})");
            command.AddParameter("channel", channel);
            for (var i = 0; i < chunk.Length; i++)
            {
                command.AddParameter("p" + i, chunk[i]);
            }

            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                suppressed.Add(reader.GetString(0));
            }
        }

        return suppressed;
    }

    /// <summary>Never send to <paramref name="address"/> on <paramref name="channel"/> again; suppressing twice keeps the first date and the new reason.</summary>
    public async Task SuppressAsync(string channel, string address, string reason, CancellationToken ct)
    {
        var normalized = NormalizeAddress(channel, address);
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new SubscriberException($"reason '{reason}' is empty: say why {channel} '{normalized}' is suppressed");
        }

        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("""
            INSERT INTO suppressions (channel, address, reason, created_at) VALUES (@channel, @address, @reason, @now)
            ON CONFLICT (channel, address) DO UPDATE SET reason = excluded.reason
            """);
        command.AddParameter("channel", channel);
        command.AddParameter("address", normalized);
        command.AddParameter("reason", reason.Trim());
        command.AddParameter("now", time.GetUtcNow());
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Lifts a suppression; false when the address was not suppressed.</summary>
    public async Task<bool> UnsuppressAsync(string channel, string address, CancellationToken ct)
    {
        var normalized = NormalizeAddress(channel, address);
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("DELETE FROM suppressions WHERE channel = @channel AND address = @address");
        command.AddParameter("channel", channel);
        command.AddParameter("address", normalized);
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <inheritdoc cref="ImportCsvAsync(TextReader, TopicMatcher?, CancellationToken)"/>
    public Task<ImportResult> ImportCsvAsync(TextReader csv, CancellationToken ct) => ImportCsvAsync(csv, null, ct);

    /// <summary>
    /// Imports subscribers from CSV (RFC 4180) with a header row naming some of <see cref="CsvColumns"/> in any
    /// order. <c>topics</c> holds names separated by <c>;</c>, spaces or (quoted) commas (empty: all topics); <c>cadence</c> and
    /// <c>time_zone</c> default to <c>instant</c> and <c>UTC</c>. Good rows are committed in batches of 1,000; a
    /// bad row or a taken address is skipped with an error naming its line, never failing the other rows.
    /// </summary>
    /// <param name="topics">When given, topic names must be its topics (and are stored by their canonical name).</param>
    /// <exception cref="SubscriberException">The header is missing or names an unknown or repeated column.</exception>
    public async Task<ImportResult> ImportCsvAsync(TextReader csv, TopicMatcher? topics, CancellationToken ct)
    {
        var reader = new CsvReader(csv);
        var header = await reader.ReadAsync(ct);
        while (header is { Fields: [""] })
        {
            header = await reader.ReadAsync(ct);
        }

        if (header is null)
        {
            throw new SubscriberException($"the file is empty: expected a header row such as {string.Join(',', CsvColumns)}");
        }

        var columns = ReadHeader(header);
        var errors = new List<(int Line, string Message)>();
        var batch = new List<(int Line, ValidSubscriber Subscriber)>();
        var imported = 0;
        await using var connection = await db.OpenAsync(ct);
        while (await reader.ReadAsync(ct) is { } record)
        {
            if (record.Fields is [""] && record.Error is null)
            {
                continue;
            }

            try
            {
                if (record.Error is not null)
                {
                    throw new SubscriberException(record.Error);
                }

                if (record.Fields.Count != columns.Count)
                {
                    throw new SubscriberException($"{record.Fields.Count} fields, but the header has {columns.Count}");
                }

                batch.Add((record.Line, Validate(ReadRow(columns, record.Fields), topics)));
            }
            catch (SubscriberException e)
            {
                errors.Add((record.Line, e.Message));
            }

            if (batch.Count == ImportBatchSize)
            {
                imported += await ImportBatchAsync(connection, batch, errors, ct);
                batch.Clear();
            }
        }

        imported += await ImportBatchAsync(connection, batch, errors, ct);
        var sorted = errors.OrderBy(e => e.Line).Select(e => $"line {e.Line}: {e.Message}").ToList();
        return new ImportResult(imported, sorted.Count, sorted);
    }

    internal static string FormatCadence(Cadence cadence) => cadence switch
    {
        Cadence.Instant => "instant",
        Cadence.Daily => "daily",
        Cadence.Weekly => "weekly",
        Cadence.Off => "off",
        _ => throw new SubscriberException($"cadence '{cadence}' is not one of instant, daily, weekly, off"),
    };

    internal static Cadence ParseCadence(string text) => text.Trim().ToLowerInvariant() switch
    {
        "instant" => Cadence.Instant,
        "daily" => Cadence.Daily,
        "weekly" => Cadence.Weekly,
        "off" => Cadence.Off,
        _ => throw new SubscriberException($"cadence '{text}' is not one of instant, daily, weekly, off"),
    };

    internal static string FormatStatus(ChannelStatus status) => status switch
    {
        ChannelStatus.Active => "active",
        ChannelStatus.PendingConfirmation => "pending-confirmation",
        ChannelStatus.Unsubscribed => "unsubscribed",
        ChannelStatus.Blocked => "blocked",
        ChannelStatus.Bounced => "bounced",
        _ => throw new SubscriberException($"status '{status}' is not one of active, pending-confirmation, unsubscribed, blocked, bounced"),
    };

    internal static ChannelStatus ParseStatus(string text) => text switch
    {
        "active" => ChannelStatus.Active,
        "pending-confirmation" => ChannelStatus.PendingConfirmation,
        "unsubscribed" => ChannelStatus.Unsubscribed,
        "blocked" => ChannelStatus.Blocked,
        "bounced" => ChannelStatus.Bounced,
        _ => throw new InvalidOperationException($"Stored channel status '{text}' is unknown."),
    };

    /// <summary>An email trimmed and lower-cased, or a Telegram chat id in its canonical form.</summary>
    /// <exception cref="SubscriberException">Unknown channel or an address that is not one.</exception>
    internal static string NormalizeAddress(string channel, string address)
    {
        CheckChannel(channel);
        if (channel == Channels.Email)
        {
            return NormalizeEmail(address);
        }

        // Telegram chat ids are signed 64-bit integers: negative for groups and channels (Bot API, "Chat.id").
        if (long.TryParse(address?.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var chatId) && chatId != 0)
        {
            return chatId.ToString(CultureInfo.InvariantCulture);
        }

        // Bot API sendMessage chat_id: "or username of the target channel (in the format @channelusername)";
        // usernames are case-insensitive.
        var trimmed = address?.Trim() ?? "";
        if (TelegramUsername().IsMatch(trimmed))
        {
            return trimmed.ToLowerInvariant();
        }

        throw new SubscriberException(trimmed.StartsWith('@')
            ? $"telegram '{address}' is not a chat id or a channel's @username (5-32 letters, digits and '_', starting with a letter)"
            : $"telegram '{address}' is not a chat id (a non-zero signed 64-bit integer)");
    }

    /// <summary>Telegram usernames: 5-32 characters, a-z, 0-9 and underscores, starting with a letter.</summary>
    [GeneratedRegex("^@[A-Za-z][A-Za-z0-9_]{3,30}[A-Za-z0-9]$")]
    internal static partial Regex TelegramUsername();

    private static string NormalizeEmail(string? email)
    {
        var normalized = email?.Trim().ToLowerInvariant() ?? "";
        // RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle brackets.
        if (normalized.Length is 0 or > 254
            || !MailAddress.TryCreate(normalized, out var parsed)
            || parsed.Address != normalized
            || parsed.DisplayName.Length != 0
            || parsed.Host.Length == 0)
        {
            throw new SubscriberException($"email '{email}' is not an address");
        }

        return normalized;
    }

    private static void CheckChannel(string channel)
    {
        if (!Channels.All.Contains(channel))
        {
            throw new SubscriberException($"channel '{channel}' is not one of {string.Join(", ", Channels.All)}");
        }
    }

    private static void CheckCadence(Cadence cadence) => FormatCadence(cadence);

    private static void CheckStatus(ChannelStatus status) => FormatStatus(status);

    private static ValidSubscriber Validate(NewSubscriber subscriber, TopicMatcher? knownTopics)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        if (subscriber.Email is null && subscriber.TelegramChatId is null)
        {
            throw new SubscriberException("email and telegram are both empty: a subscriber needs at least one channel");
        }

        var email = subscriber.Email is null ? null : NormalizeEmail(subscriber.Email);
        var telegram = subscriber.TelegramChatId is { } chatId
            ? NormalizeAddress(Channels.Telegram, chatId.ToString(CultureInfo.InvariantCulture))
            : null;
        CheckCadence(subscriber.Cadence);
        CheckStatus(subscriber.Status);
        var name = string.IsNullOrWhiteSpace(subscriber.Name) ? null : subscriber.Name.Trim();
        if (name is { Length: > 200 })
        {
            throw new SubscriberException($"name '{name[..40]}...' is longer than 200 characters");
        }

        return new ValidSubscriber(
            email,
            telegram,
            NormalizeTopics(subscriber.Topics ?? [], knownTopics),
            subscriber.Cadence,
            CheckTimeZone(subscriber.TimeZone),
            name,
            subscriber.Status);
    }

    private static string[] NormalizeTopics(IReadOnlyList<string> topics, TopicMatcher? knownTopics)
    {
        var normalized = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var topic in topics)
        {
            var trimmed = topic?.Trim().ToLowerInvariant() ?? "";
            if (trimmed.Length is 0 or > 100)
            {
                throw new SubscriberException($"topics '{topic}' is not a topic name (1 to 100 characters)");
            }

            if (knownTopics is not null)
            {
                trimmed = knownTopics.TryFind(trimmed, out var known)
                    ? known.Name
                    : throw new SubscriberException($"topics '{topic}' is not a topic; topics: {string.Join(", ", knownTopics.Names)}");
            }

            normalized.Add(trimmed);
        }

        return [.. normalized];
    }

    private static string CheckTimeZone(string? timeZone)
    {
        var id = timeZone?.Trim() ?? "";
        try
        {
            // FindSystemTimeZoneById caches what it found, so checking a million rows reads each zone file once.
            // Stored by the id it answers with ("utc" is "UTC").
            if (id.Length > 0 && TimeZoneInfo.FindSystemTimeZoneById(id) is { HasIanaId: true } zone)
            {
                return zone.Id;
            }
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or System.Security.SecurityException)
        {
            // SecurityException: on Linux, an id naming a folder of the zone database ("Asia").
        }

        throw new SubscriberException($"time_zone '{timeZone}' is not an IANA time zone (such as Europe/Paris or Asia/Tokyo)");
    }

    private static List<string> ReadHeader(CsvRecord header)
    {
        if (header.Error is not null)
        {
            throw new SubscriberException($"line {header.Line}: {header.Error}");
        }

        var columns = new List<string>();
        foreach (var field in header.Fields)
        {
            var column = field.Trim().ToLowerInvariant();
            if (!CsvColumns.Contains(column))
            {
                throw new SubscriberException($"line {header.Line}: unknown column '{field}'; columns: {string.Join(", ", CsvColumns)}");
            }

            if (columns.Contains(column))
            {
                throw new SubscriberException($"line {header.Line}: column '{column}' appears twice");
            }

            columns.Add(column);
        }

        if (!columns.Contains("email") && !columns.Contains("telegram"))
        {
            throw new SubscriberException($"line {header.Line}: no email and no telegram column: a subscriber needs at least one channel");
        }

        return columns;
    }

    private static NewSubscriber ReadRow(List<string> columns, IReadOnlyList<string> fields)
    {
        string? Cell(string column)
        {
            var index = columns.IndexOf(column);
            return index < 0 || fields[index].Trim().Length == 0 ? null : fields[index].Trim();
        }

        long? telegram = null;
        if (Cell("telegram") is { } chat)
        {
            telegram = long.TryParse(NormalizeAddress(Channels.Telegram, chat), CultureInfo.InvariantCulture, out var chatId)
                ? chatId
                : throw new SubscriberException($"telegram '{chat}' is a username: a reader's chat is its numeric id (only NewsBot:Telegram:Channels takes @usernames)");
        }

        return new NewSubscriber(
            Email: Cell("email"),
            TelegramChatId: telegram,
            Topics: Cell("topics")?.Split([';', ' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries) ?? [],
            Cadence: Cell("cadence") is { } cadence ? ParseCadence(cadence) : Cadence.Instant,
            TimeZone: Cell("time_zone") ?? "UTC",
            Name: Cell("name"));
    }

    private async Task<int> ImportBatchAsync(
        DbConnection connection, List<(int Line, ValidSubscriber Subscriber)> batch, List<(int Line, string Message)> errors, CancellationToken ct)
    {
        if (batch.Count == 0)
        {
            return 0;
        }

        var imported = 0;
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var writer = await SubscriberWriter.CreateAsync(connection, transaction, time.GetUtcNow(), ct);
        foreach (var (line, subscriber) in batch)
        {
            var (_, conflict) = await writer.InsertAsync(subscriber, ct);
            if (conflict is null)
            {
                imported++;
            }
            else
            {
                errors.Add((line, conflict));
            }
        }

        await transaction.CommitAsync(ct);
        return imported;
    }

    private static async Task ReplaceTopicsAsync(DbConnection connection, DbTransaction transaction, long id, string[] topics, CancellationToken ct)
    {
        await using (var delete = connection.CreateCommand("DELETE FROM subscriber_topics WHERE subscriber_id = @id", transaction))
        {
            delete.AddParameter("id", id);
            await delete.ExecuteNonQueryAsync(ct);
        }

        await using var insert = connection.CreateCommand("INSERT INTO subscriber_topics (subscriber_id, topic) VALUES (@id, @topic)", transaction);
        insert.AddParameter("id", id);
        insert.AddParameter("topic", null);
        foreach (var topic in topics)
        {
            insert.SetParameter("topic", topic);
            await insert.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>Sets a Telegram chat's status unless it has it already; true when it changed.</summary>
    private static async Task<bool> SetStatusAsync(
        DbConnection connection, DbTransaction transaction, string address, ChannelStatus status, DateTimeOffset now, CancellationToken ct)
    {
        await using var command = connection.CreateCommand("""
            UPDATE subscriber_channels SET status = @status, status_changed_at = @now
            WHERE channel = @channel AND address = @address AND status <> @status
            """, transaction);
        command.AddParameter("status", FormatStatus(status));
        command.AddParameter("now", now);
        command.AddParameter("channel", Channels.Telegram);
        command.AddParameter("address", address);
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    private static async Task CheckExistsAsync(DbConnection connection, DbTransaction transaction, long id, CancellationToken ct)
    {
        await using var command = connection.CreateCommand("SELECT 1 FROM subscribers WHERE id = @id", transaction);
        command.AddParameter("id", id);
        if (await command.ExecuteScalarAsync(ct) is null)
        {
            throw new SubscriberException($"subscriber {id} does not exist");
        }
    }

    private static async Task<List<Subscriber>> ReadSubscribersAsync(DbConnection connection, string where, long key, int limit, CancellationToken ct)
    {
        var rows = new List<(long Id, string? Name, Cadence Cadence, string TimeZone, DateTimeOffset CreatedAt, DateTimeOffset? LastDigestAt, bool Broadcast)>();
        await using (var command = connection.CreateCommand(
            $"SELECT id, name, cadence, time_zone, created_at, last_digest_at, kind FROM subscribers {where} ORDER BY id LIMIT @limit"))
        {
            command.AddParameter("id", key);
            command.AddParameter("limit", limit);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                rows.Add((reader.GetInt64(0), reader.GetNullableString(1), ParseCadence(reader.GetString(2)), reader.GetString(3),
                    reader.GetTimestamp(4), reader.GetNullableTimestamp(5), reader.GetString(6) == BroadcastKind));
            }
        }

        if (rows.Count == 0)
        {
            return [];
        }

        // Both lists for the page in one range query each: the page is a contiguous run of ids.
        var channels = new Dictionary<long, List<SubscriberChannel>>();
        await using (var command = connection.CreateCommand(
            "SELECT subscriber_id, channel, address, status FROM subscriber_channels WHERE subscriber_id BETWEEN @first AND @last ORDER BY subscriber_id, channel"))
        {
            command.AddParameter("first", rows[0].Id);
            command.AddParameter("last", rows[^1].Id);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var id = reader.GetInt64(0);
                if (!channels.TryGetValue(id, out var list))
                {
                    channels[id] = list = [];
                }

                list.Add(new SubscriberChannel(reader.GetString(1), reader.GetString(2), ParseStatus(reader.GetString(3))));
            }
        }

        var topics = new Dictionary<long, List<string>>();
        await using (var command = connection.CreateCommand(
            "SELECT subscriber_id, topic FROM subscriber_topics WHERE subscriber_id BETWEEN @first AND @last ORDER BY subscriber_id, topic"))
        {
            command.AddParameter("first", rows[0].Id);
            command.AddParameter("last", rows[^1].Id);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var id = reader.GetInt64(0);
                if (!topics.TryGetValue(id, out var list))
                {
                    topics[id] = list = [];
                }

                list.Add(reader.GetString(1));
            }
        }

        return [.. rows.Select(r => new Subscriber(
            r.Id, r.Name, r.Cadence, r.TimeZone,
            topics.TryGetValue(r.Id, out var t) ? t : [],
            channels.TryGetValue(r.Id, out var c) ? c : [],
            r.CreatedAt, r.LastDigestAt, r.Broadcast))];
    }

    private static string InList(int count)
    {
        return string.Join(", ", Enumerable.Range(0, count).Select(i => "@p" + i));
    }

    private static void AddInListParameters(DbCommand command, long[] ids)
    {
        for (var i = 0; i < ids.Length; i++)
        {
            command.AddParameter("p" + i, ids[i]);
        }
    }

    /// <summary>A subscriber whose fields passed <see cref="Validate"/>: addresses normalized, topics sorted and distinct.</summary>
    private sealed record ValidSubscriber(
        string? Email, string? Telegram, string[] Topics, Cadence Cadence, string TimeZone, string? Name, ChannelStatus Status);

    private readonly record struct RecipientRow(
        long SubscriberId, string Channel, string Address, Cadence Cadence, string TimeZone, DateTimeOffset? LastDigestAt, bool Broadcast);

    /// <summary>The prepared inserts of one transaction, shared by add, seed and import.</summary>
    private sealed class SubscriberWriter : IAsyncDisposable
    {
        private readonly DbCommand _insertSubscriber;
        private readonly DbCommand _insertChannel;
        private readonly DbCommand _insertTopic;
        private readonly DbCommand _deleteSubscriber;
        private readonly DbCommand _findOwner;

        private SubscriberWriter(DbConnection connection, DbTransaction transaction, DateTimeOffset now)
        {
            _insertSubscriber = connection.CreateCommand("""
                INSERT INTO subscribers (name, cadence, time_zone, created_at) VALUES (@name, @cadence, @time_zone, @now)
                RETURNING id
                """, transaction);
            _insertSubscriber.AddParameter("now", now);
            foreach (var name in (string[])["name", "cadence", "time_zone"])
            {
                _insertSubscriber.AddParameter(name, null);
            }

            // A taken address inserts nothing instead of failing, so one duplicate does not abort a batch.
            _insertChannel = connection.CreateCommand("""
                INSERT INTO subscriber_channels (subscriber_id, channel, address, status, status_changed_at)
                VALUES (@id, @channel, @address, @status, @now)
                ON CONFLICT (address, channel) DO NOTHING
                """, transaction);
            _insertChannel.AddParameter("now", now);
            foreach (var name in (string[])["id", "channel", "address", "status"])
            {
                _insertChannel.AddParameter(name, null);
            }

            _insertTopic = connection.CreateCommand("INSERT INTO subscriber_topics (subscriber_id, topic) VALUES (@id, @topic)", transaction);
            _insertTopic.AddParameter("id", null);
            _insertTopic.AddParameter("topic", null);
            // Channels and topics go with it: ON DELETE CASCADE.
            _deleteSubscriber = connection.CreateCommand("DELETE FROM subscribers WHERE id = @id", transaction);
            _deleteSubscriber.AddParameter("id", null);
            _findOwner = connection.CreateCommand(
                "SELECT subscriber_id FROM subscriber_channels WHERE channel = @channel AND address = @address", transaction);
            _findOwner.AddParameter("channel", null);
            _findOwner.AddParameter("address", null);
        }

        public static async Task<SubscriberWriter> CreateAsync(DbConnection connection, DbTransaction transaction, DateTimeOffset now, CancellationToken ct)
        {
            var writer = new SubscriberWriter(connection, transaction, now);
            foreach (var command in (DbCommand[])[writer._insertSubscriber, writer._insertChannel, writer._insertTopic])
            {
                await command.PrepareAsync(ct);
            }

            return writer;
        }

        /// <summary>Inserts the subscriber, or nothing and the reason when one of its addresses is taken.</summary>
        public async Task<(long Id, string? Conflict)> InsertAsync(ValidSubscriber subscriber, CancellationToken ct)
        {
            _insertSubscriber.SetParameter("name", subscriber.Name);
            _insertSubscriber.SetParameter("cadence", FormatCadence(subscriber.Cadence));
            _insertSubscriber.SetParameter("time_zone", subscriber.TimeZone);
            var id = (long)(await _insertSubscriber.ExecuteScalarAsync(ct))!;
            _insertChannel.SetParameter("id", id);
            _insertChannel.SetParameter("status", FormatStatus(subscriber.Status));
            foreach (var (channel, address) in ((string, string?)[])[(Channels.Email, subscriber.Email), (Channels.Telegram, subscriber.Telegram)])
            {
                if (address is null)
                {
                    continue;
                }

                _insertChannel.SetParameter("channel", channel);
                _insertChannel.SetParameter("address", address);
                if (await _insertChannel.ExecuteNonQueryAsync(ct) == 0)
                {
                    _findOwner.SetParameter("channel", channel);
                    _findOwner.SetParameter("address", address);
                    var owner = await _findOwner.ExecuteScalarAsync(ct);
                    _deleteSubscriber.SetParameter("id", id);
                    await _deleteSubscriber.ExecuteNonQueryAsync(ct);
                    return (0, $"{channel} '{address}' already belongs to subscriber {owner}");
                }
            }

            _insertTopic.SetParameter("id", id);
            foreach (var topic in subscriber.Topics)
            {
                _insertTopic.SetParameter("topic", topic);
                await _insertTopic.ExecuteNonQueryAsync(ct);
            }

            return (id, null);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var command in (DbCommand[])[_insertSubscriber, _insertChannel, _insertTopic, _deleteSubscriber, _findOwner])
            {
                await command.DisposeAsync();
            }
        }
    }
}
