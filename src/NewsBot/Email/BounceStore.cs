using NewsBot.Storage;

namespace NewsBot.Email;

/// <summary>A bounce to record: one recipient of one report, with what NewsBot did about it.</summary>
/// <param name="Suppressed">Why the address was suppressed because of this bounce; null when it was not.</param>
public sealed record NewBounce(
    string? Address, long? SubscriberId, long? SendId, BounceKind Kind, string? Status, string? Action, string? Diagnostic, string? Suppressed);

/// <summary>A recorded bounce, for the admin.</summary>
public sealed record Bounce(
    long Id,
    string ReportKey,
    string? Address,
    long? SubscriberId,
    long? SendId,
    BounceKind Kind,
    string? Status,
    string? Action,
    string? Diagnostic,
    string? Suppressed,
    DateTimeOffset CreatedAt);

/// <summary>The reports read from the bounce mailbox and the bounces found in them (migration 0005).</summary>
public sealed class BounceStore(Db db, TimeProvider time)
{
    private const int MaxListSize = 1_000;

    public static string KindName(BounceKind kind) => kind switch
    {
        BounceKind.Hard => "hard",
        BounceKind.Soft => "soft",
        BounceKind.Complaint => "complaint",
        BounceKind.Other => "other",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a bounce kind"),
    };

    public static BounceKind ParseKind(string name) => name switch
    {
        "hard" => BounceKind.Hard,
        "soft" => BounceKind.Soft,
        "complaint" => BounceKind.Complaint,
        "other" => BounceKind.Other,
        _ => throw new FormatException($"Stored bounce kind '{name}' is not one of hard, soft, complaint, other."),
    };

    public static string TypeName(ReportType type) => type switch
    {
        ReportType.DeliveryStatus => "delivery-status",
        ReportType.FeedbackReport => "feedback-report",
        ReportType.None => "none",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a report type"),
    };

    /// <summary>Whether the report with this key was recorded already.</summary>
    public async Task<bool> IsRecordedAsync(string reportKey, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("SELECT 1 FROM bounce_reports WHERE report_key = @key");
        command.AddParameter("key", reportKey);
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    /// <summary>
    /// Records a report and its bounces in one transaction; false, recording nothing, when the key was recorded
    /// already (another run got there first).
    /// </summary>
    public async Task<bool> RecordAsync(string reportKey, ReportType type, IReadOnlyList<NewBounce> bounces, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var connection = await db.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var report = connection.CreateCommand("""
            INSERT INTO bounce_reports (report_key, report_type, processed_at) VALUES (@key, @type, @now)
            ON CONFLICT (report_key) DO NOTHING
            """, transaction))
        {
            report.AddParameter("key", reportKey);
            report.AddParameter("type", TypeName(type));
            report.AddParameter("now", now);
            if (await report.ExecuteNonQueryAsync(ct) == 0)
            {
                return false;
            }
        }

        await using (var insert = connection.CreateCommand("""
            INSERT INTO bounces (report_key, address, subscriber_id, send_id, kind, status, action, diagnostic, suppressed, created_at)
            VALUES (@key, @address, @subscriber_id, @send_id, @kind, @status, @action, @diagnostic, @suppressed, @now)
            """, transaction))
        {
            insert.AddParameter("key", reportKey);
            insert.AddParameter("now", now);
            foreach (var name in (string[])["address", "subscriber_id", "send_id", "kind", "status", "action", "diagnostic", "suppressed"])
            {
                insert.AddParameter(name, null);
            }

            foreach (var bounce in bounces)
            {
                insert.SetParameter("address", bounce.Address);
                insert.SetParameter("subscriber_id", bounce.SubscriberId);
                insert.SetParameter("send_id", bounce.SendId);
                insert.SetParameter("kind", KindName(bounce.Kind));
                insert.SetParameter("status", bounce.Status);
                insert.SetParameter("action", bounce.Action);
                insert.SetParameter("diagnostic", bounce.Diagnostic);
                insert.SetParameter("suppressed", bounce.Suppressed);
                await insert.ExecuteNonQueryAsync(ct);
            }
        }

        await transaction.CommitAsync(ct);
        return true;
    }

    /// <summary>Soft bounces recorded for <paramref name="address"/> at or after <paramref name="since"/>.</summary>
    public async Task<int> CountSoftBouncesAsync(string address, DateTimeOffset since, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand(
            "SELECT COUNT(*) FROM bounces WHERE address = @address AND kind = 'soft' AND created_at >= @since");
        command.AddParameter("address", address);
        command.AddParameter("since", since);
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// How many bounces of each kind came back from one send, matched to its rows by VERP or the returned Message-ID:
    /// the ledger says what the relay took, this what the receivers sent back later.
    /// </summary>
    public async Task<IReadOnlyDictionary<BounceKind, int>> CountForSendAsync(long sendId, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("SELECT kind, COUNT(*) FROM bounces WHERE send_id = @send GROUP BY kind");
        command.AddParameter("send", sendId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var counts = new Dictionary<BounceKind, int>();
        while (await reader.ReadAsync(ct))
        {
            counts[ParseKind(reader.GetString(0))] = Convert.ToInt32(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture);
        }

        return counts;
    }

    /// <summary>
    /// The newest <paramref name="limit"/> bounces, newest first; only those of <paramref name="address"/>, and only
    /// those that came back from send <paramref name="sendId"/>, when given.
    /// </summary>
    public async Task<IReadOnlyList<Bounce>> ListRecentAsync(int limit, string? address, long? sendId, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxListSize);
        var conditions = new List<string>();
        if (address is not null)
        {
            conditions.Add("address = @address");
        }

        if (sendId is not null)
        {
            conditions.Add("send_id = @send");
        }

        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand($"""
            SELECT id, report_key, address, subscriber_id, send_id, kind, status, action, diagnostic, suppressed, created_at
            FROM bounces {(conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions))}
            ORDER BY created_at DESC, id DESC
            LIMIT @limit
            """);
        command.AddParameter("limit", limit);
        if (address is not null)
        {
            command.AddParameter("address", address.Trim().ToLowerInvariant());
        }

        if (sendId is not null)
        {
            command.AddParameter("send", sendId.Value);
        }

        await using var reader = await command.ExecuteReaderAsync(ct);
        var bounces = new List<Bounce>();
        while (await reader.ReadAsync(ct))
        {
            bounces.Add(new Bounce(
                reader.GetInt64(0), reader.GetString(1), reader.GetNullableString(2),
                reader.IsDBNull(3) ? null : reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetInt64(4),
                ParseKind(reader.GetString(5)), reader.GetNullableString(6), reader.GetNullableString(7),
                reader.GetNullableString(8), reader.GetNullableString(9), reader.GetTimestamp(10)));
        }

        return bounces;
    }
}
