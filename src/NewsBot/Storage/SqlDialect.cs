using System.Globalization;
using System.Text;

namespace NewsBot.Storage;

/// <summary>
/// The SQL that differs between providers. Everything else the stores run is portable
/// (<c>INSERT ... ON CONFLICT ... DO NOTHING RETURNING id</c>, <c>@name</c> parameters, ISO-8601 text timestamps,
/// booleans as 0/1 integers).
/// </summary>
public sealed class SqlDialect
{
    public static readonly SqlDialect Sqlite = new()
    {
        Name = "sqlite",
        // strftime %f is "SS.SSS", so this is the same fixed-width text as DbExtensions.FormatTimestamp.
        NowSql = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        InsertSearchSql = "INSERT INTO posts_fts (rowid, title, summary, body) VALUES (@id, @title, @summary, @body)",
        // posts_fts is contentless with contentless_delete=1 (SQLite 3.43+, https://sqlite.org/fts5.html#contentless_delete_tables):
        // a row can be deleted by rowid, so a replace is a delete plus an insert. New posts skip the delete, which
        // would otherwise leave a tombstone in the index for every insert.
        ReplaceSearchSql = """
            DELETE FROM posts_fts WHERE rowid = @id;
            INSERT INTO posts_fts (rowid, title, summary, body) VALUES (@id, @title, @summary, @body);
            """,
        // bm25 weights per column (https://sqlite.org/fts5.html#the_bm25_function): a title hit outranks a summary hit,
        // which outranks a body hit. bm25 is lower-is-better.
        SearchSql = """
            SELECT rowid FROM posts_fts WHERE posts_fts MATCH @query
            ORDER BY bm25(posts_fts, 10.0, 4.0, 1.0), rowid DESC
            LIMIT @count
            """,
        // One statement: SQLite has one writer at a time, so two claims of a range never interleave.
        ClaimDeliveriesSql = """
            UPDATE deliveries SET state = 'sending', attempts = attempts + 1, updated_at = @now, lease_owner = @owner, lease_until = @until
            WHERE send_id = @send_id AND id BETWEEN @first AND @last AND state IN ('pending', 'failed-transient')
              AND NOT EXISTS (SELECT 1 FROM sends WHERE id = @send_id AND paused_at IS NOT NULL)
            RETURNING id, subscriber_id, channel, address, variant, idempotency_key, attempts
            """,
        ReleaseExpiredLeasesSql = """
            UPDATE deliveries SET state = 'pending', updated_at = @now
            WHERE state = 'sending' AND lease_until < @now
            RETURNING id, send_id, lease_owner, lease_until
            """,
        GreatestFunction = "max",
        QuotesSearchWords = true,
    };

    public static readonly SqlDialect Postgresql = new()
    {
        Name = "postgresql",
        // Same fixed-width text as DbExtensions.FormatTimestamp (https://www.postgresql.org/docs/15/functions-formatting.html).
        // statement_timestamp, not now(): now() is the transaction's start, SQLite's 'now' the statement's.
        NowSql = "to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
        // One weighted tsvector per post (https://www.postgresql.org/docs/15/textsearch-features.html#TEXTSEARCH-MANIPULATE-TSVECTOR):
        // title A, summary B, body C, in the newsbot_search configuration of migration 0001 (stemmed, accents removed).
        InsertSearchSql = $"INSERT INTO posts_fts (post_id, document) VALUES (@id, {PostgresqlDocument})",
        ReplaceSearchSql = $"""
            INSERT INTO posts_fts (post_id, document) VALUES (@id, {PostgresqlDocument})
            ON CONFLICT (post_id) DO UPDATE SET document = excluded.document
            """,
        // plainto_tsquery ANDs the words and knows no operators (https://www.postgresql.org/docs/15/textsearch-controls.html#TEXTSEARCH-PARSING-QUERIES).
        // ts_rank weights are {D, C, B, A}: body 0.1, summary 0.4, title 1.0, the same 1:4:10 as SQLite's bm25.
        SearchSql = """
            SELECT post_id FROM posts_fts, plainto_tsquery('newsbot_search', @query) AS query
            WHERE document @@ query
            ORDER BY ts_rank('{0, 0.1, 0.4, 1.0}', document, query) DESC, post_id DESC
            LIMIT @count
            """,
        // SKIP LOCKED (https://www.postgresql.org/docs/15/sql-select.html#SQL-FOR-UPDATE-SHARE): a row another
        // transaction is claiming is left to it instead of waited for; the state test is re-checked on the row
        // version locked, so a row claimed and committed meanwhile is not taken again.
        ClaimDeliveriesSql = """
            UPDATE deliveries SET state = 'sending', attempts = attempts + 1, updated_at = @now, lease_owner = @owner, lease_until = @until
            WHERE id IN (
                SELECT id FROM deliveries
                WHERE send_id = @send_id AND id BETWEEN @first AND @last AND state IN ('pending', 'failed-transient')
                  AND NOT EXISTS (SELECT 1 FROM sends WHERE id = @send_id AND paused_at IS NOT NULL)
                FOR UPDATE SKIP LOCKED)
            RETURNING id, subscriber_id, channel, address, variant, idempotency_key, attempts
            """,
        // As the claim: a row another sweeper (or a renewing job) has locked is skipped, and the expiry is re-checked
        // on the locked row version, so a lease renewed meanwhile is not released and no row is released twice.
        ReleaseExpiredLeasesSql = """
            UPDATE deliveries SET state = 'pending', updated_at = @now
            WHERE id IN (
                SELECT id FROM deliveries WHERE state = 'sending' AND lease_until < @now
                FOR UPDATE SKIP LOCKED)
            RETURNING id, send_id, lease_owner, lease_until
            """,
        GreatestFunction = "GREATEST",
        QuotesSearchWords = false,
        // Instances starting together would both run CREATE TABLE and the same migration; a session advisory lock
        // (https://www.postgresql.org/docs/15/explicit-locking.html#ADVISORY-LOCKS) lets one migrate while the others
        // wait, then find nothing left to do. The key is arbitrary but fixed: the bytes of "NewsBot".
        LockMigrationsSql = "SELECT pg_advisory_lock(22066611892678516)",
        UnlockMigrationsSql = "SELECT pg_advisory_unlock(22066611892678516)",
    };

    private const string PostgresqlDocument = """
        setweight(to_tsvector('newsbot_search', @title), 'A')
        || setweight(to_tsvector('newsbot_search', @summary), 'B')
        || setweight(to_tsvector('newsbot_search', @body), 'C')
        """;

    private SqlDialect()
    {
    }

    /// <summary>Provider name, also the folder under <c>Storage/Migrations/</c>.</summary>
    public required string Name { get; init; }

    /// <summary>An expression for the current UTC time as ISO-8601 text with milliseconds.</summary>
    public required string NowSql { get; init; }

    /// <summary>Indexes new post <c>@id</c> with <c>@title</c>, <c>@summary</c>, <c>@body</c> (plain text).</summary>
    public required string InsertSearchSql { get; init; }

    /// <summary>Replaces the search entry of edited post <c>@id</c>; same parameters as <see cref="InsertSearchSql"/>.</summary>
    public required string ReplaceSearchSql { get; init; }

    /// <summary>Post ids matching <c>@query</c> (built by <see cref="FormatSearchQuery"/>), best first, at most <c>@count</c>.</summary>
    public required string SearchSql { get; init; }

    /// <summary>
    /// Moves the ledger rows of send <c>@send_id</c> with ids in <c>[@first, @last]</c> that are pending or
    /// failed-transient to sending (updated at <c>@now</c>), returning id, subscriber_id, channel, address, variant,
    /// idempotency_key, attempts, leased to <c>@owner</c> until <c>@until</c>. Two claims running at once never both
    /// get a row.
    /// </summary>
    public required string ClaimDeliveriesSql { get; init; }

    /// <summary>
    /// Moves sending rows whose lease ended before <c>@now</c> back to pending, returning id, send_id, lease_owner,
    /// lease_until (the lease that ended: the columns are kept). Two sweeps running at once never both get a row.
    /// </summary>
    public required string ReleaseExpiredLeasesSql { get; init; }

    /// <summary>The function giving the largest of its arguments: SQLite's multi-argument <c>max</c>, PostgreSQL's <c>GREATEST</c>.</summary>
    public required string GreatestFunction { get; init; }

    /// <summary>
    /// Run before migrating, on the migrating connection, so that concurrent starts migrate one at a time; null when
    /// the provider needs none (SQLite: one writer at a time, and one instance per file).
    /// </summary>
    public string? LockMigrationsSql { get; init; }

    /// <summary>Undoes <see cref="LockMigrationsSql"/>.</summary>
    public string? UnlockMigrationsSql { get; init; }

    /// <summary>FTS5 needs each word quoted to take it literally; plainto_tsquery takes the words as they are.</summary>
    private bool QuotesSearchWords { get; init; }

    /// <summary>
    /// The user's words as a query that matches posts holding all of them, or null when nothing searchable is left.
    /// Operators in the input (<c>AND</c>, <c>OR</c>, <c>NOT</c>, <c>NEAR</c>, <c>*</c>, <c>-</c>, <c>^</c>, quotes,
    /// parentheses, <c>column:</c>) are never interpreted: for SQLite each word becomes a quoted FTS5 string
    /// (https://sqlite.org/fts5.html#fts5_strings); for PostgreSQL the words are joined by spaces for plainto_tsquery.
    /// </summary>
    public string? FormatSearchQuery(string words)
    {
        var terms = SplitWords(words);
        if (terms.Count == 0)
        {
            return null;
        }

        if (!QuotesSearchWords)
        {
            return string.Join(' ', terms);
        }

        var query = new StringBuilder();
        foreach (var term in terms)
        {
            if (query.Length > 0)
            {
                query.Append(' ');
            }

            query.Append('"').Append(term.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        }

        return query.ToString();
    }

    /// <summary>
    /// Words as the unicode61 tokenizer sees them: runs of its default token categories "L* N* Co"
    /// (https://sqlite.org/fts5.html#unicode61_tokenizer), plus combining marks so a decomposed "é" stays in its word;
    /// everything else separates. FTS5 tokenizes each quoted word again, so this only has to drop operators.
    /// </summary>
    private static List<string> SplitWords(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (IsTokenChar(rune))
            {
                word.Append(rune.ToString());
            }
            else if (word.Length > 0)
            {
                words.Add(word.ToString());
                word.Clear();
            }
        }

        if (word.Length > 0)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    private static bool IsTokenChar(Rune rune)
    {
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
                or UnicodeCategory.PrivateUse or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark => true,
            _ => false,
        };
    }
}
