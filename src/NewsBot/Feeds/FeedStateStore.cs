using System.Data.Common;

using NewsBot.Storage;

namespace NewsBot.Feeds;

/// <summary>What NewsBot remembers about polling one configured feed.</summary>
public sealed record FeedState(
    string Name,
    string Url,
    string? PermanentUrl,
    string? ETag,
    string? LastModified,
    string? Title,
    int FailureCount,
    string? LastError,
    DateTimeOffset? LastPolledAt,
    DateTimeOffset? LastSuccessAt,
    DateTimeOffset? NextAttemptAt,
    bool Backfilled);

/// <summary>
/// Poll state per feed: conditional-request validators (RFC 9110 §8.8), permanent redirects (RFC 9110 §15.4.2),
/// failures and back-off. The <c>Record*</c> methods throw when the feed was never ensured.
/// </summary>
public sealed class FeedStateStore(Db db)
{
    private const string Columns =
        "name, url, permanent_url, etag, last_modified, title, failure_count, last_error, last_polled_at, "
        + "last_success_at, next_attempt_at, backfilled";

    /// <summary>
    /// Stores the feed if new, else its configured url. A changed url is another resource: the permanent redirect
    /// and the validators learnt from the old one no longer apply, so they are cleared.
    /// </summary>
    public async Task<FeedState> EnsureAsync(string name, string url, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        await using (var connection = await db.OpenAsync(ct))
        {
            await using var command = connection.CreateCommand("""
                INSERT INTO feeds (name, url, failure_count, backfilled) VALUES (@name, @url, 0, @backfilled)
                ON CONFLICT (name) DO UPDATE SET
                    url = excluded.url,
                    permanent_url = CASE WHEN feeds.url = excluded.url THEN feeds.permanent_url END,
                    etag = CASE WHEN feeds.url = excluded.url THEN feeds.etag END,
                    last_modified = CASE WHEN feeds.url = excluded.url THEN feeds.last_modified END
                """);
            command.AddParameter("name", name);
            command.AddParameter("url", url);
            command.AddParameter("backfilled", 0);
            await command.ExecuteNonQueryAsync(ct);
        }

        return await GetAsync(name, ct)
            ?? throw new InvalidOperationException($"Feed '{name}' vanished from the {db} right after it was stored.");
    }

    public async Task<FeedState?> GetAsync(string name, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand($"SELECT {Columns} FROM feeds WHERE name = @name");
        command.AddParameter("name", name);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadState(reader) : null;
    }

    public async Task<IReadOnlyList<FeedState>> ListAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand($"SELECT {Columns} FROM feeds ORDER BY name");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var states = new List<FeedState>();
        while (await reader.ReadAsync(ct))
        {
            states.Add(ReadState(reader));
        }

        return states;
    }

    /// <summary>A 200 response: new validators (null when the server sent none), failures forgotten.</summary>
    public Task RecordSuccessAsync(string name, string? etag, string? lastModified, string? title, DateTimeOffset at, CancellationToken ct)
    {
        return UpdateAsync(name, """
            UPDATE feeds SET etag = @etag, last_modified = @last_modified, title = coalesce(@title, title),
                             failure_count = 0, last_error = NULL, last_polled_at = @at, last_success_at = @at,
                             next_attempt_at = NULL
            WHERE name = @name
            """, ct, ("etag", etag), ("last_modified", lastModified), ("title", title), ("at", at));
    }

    /// <summary>A 304 response (RFC 9110 §15.4.5): a success that keeps the validators.</summary>
    public Task RecordNotModifiedAsync(string name, DateTimeOffset at, CancellationToken ct)
    {
        return UpdateAsync(name, """
            UPDATE feeds SET failure_count = 0, last_error = NULL, last_polled_at = @at, last_success_at = @at,
                             next_attempt_at = NULL
            WHERE name = @name
            """, ct, ("at", at));
    }

    public Task RecordFailureAsync(string name, string error, DateTimeOffset at, DateTimeOffset nextAttemptAt, CancellationToken ct)
    {
        return UpdateAsync(name, """
            UPDATE feeds SET failure_count = failure_count + 1, last_error = @error, last_polled_at = @at,
                             next_attempt_at = @next_attempt_at
            WHERE name = @name
            """, ct, ("error", error), ("at", at), ("next_attempt_at", nextAttemptAt));
    }

    /// <summary>A 301 or 308 redirect (RFC 9110 §15.4.2, §15.4.9): poll <paramref name="url"/> from now on.</summary>
    public Task RecordPermanentUrlAsync(string name, string url, CancellationToken ct)
    {
        return UpdateAsync(name, "UPDATE feeds SET permanent_url = @url WHERE name = @name", ct, ("url", url));
    }

    /// <summary>The feed's archive (all pages) has been read once; later polls read the first page only.</summary>
    public Task MarkBackfilledAsync(string name, CancellationToken ct)
    {
        return UpdateAsync(name, "UPDATE feeds SET backfilled = @backfilled WHERE name = @name", ct, ("backfilled", 1));
    }

    private async Task UpdateAsync(string name, string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand(sql);
        command.AddParameter("name", name);
        foreach (var (parameterName, value) in parameters)
        {
            command.AddParameter(parameterName, value);
        }

        if (await command.ExecuteNonQueryAsync(ct) == 0)
        {
            throw new InvalidOperationException($"Feed '{name}' is not in the feeds table of the {db}; ensure it first.");
        }
    }

    private static FeedState ReadState(DbDataReader reader)
    {
        return new FeedState(
            Name: reader.GetString(0),
            Url: reader.GetString(1),
            PermanentUrl: reader.GetNullableString(2),
            ETag: reader.GetNullableString(3),
            LastModified: reader.GetNullableString(4),
            Title: reader.GetNullableString(5),
            FailureCount: reader.GetInt32(6),
            LastError: reader.GetNullableString(7),
            LastPolledAt: reader.GetNullableTimestamp(8),
            LastSuccessAt: reader.GetNullableTimestamp(9),
            NextAttemptAt: reader.GetNullableTimestamp(10),
            // A 0/1 integer on every provider (SqlDialect): PostgreSQL reads no integer as a boolean.
            Backfilled: reader.GetInt32(11) != 0);
    }
}
