using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

using NewsBot.Storage;

namespace NewsBot.Posts;

/// <summary>Stores posts once per key and finds them again: latest, by id, by topic, by full-text search.</summary>
public sealed partial class PostStore(Db db, TimeProvider time)
{
    /// <summary>The most posts one digest lists; a longer one is not read.</summary>
    public const int DigestPostLimit = 100;

    private const string PostColumns =
        "id, feed, key, url, title, author, published, updated, labels, content_html, summary, first_seen";

    private const string InsertSql = """
        INSERT INTO posts (feed, key, url, title, author, published, updated, labels, content_html, summary,
                           content_hash, first_seen, last_changed)
        VALUES (@feed, @key, @url, @title, @author, @published, @updated, @labels, @content_html, @summary,
                @content_hash, @now, @now)
        ON CONFLICT (key) DO NOTHING
        RETURNING id
        """;

    private const string UpdateSql = """
        UPDATE posts SET url = @url, title = @title, author = @author, published = @published, updated = @updated,
                         labels = @labels, content_html = @content_html, summary = @summary,
                         content_hash = @content_hash, last_changed = @now
        WHERE id = @id
        """;

    /// <summary>
    /// Inserts new posts and updates edited ones, in one transaction. A post is edited when its content hash or its
    /// <c>updated</c> date changed. Only the feed that first brought a key may edit it: when two feeds carry the same
    /// post with different content, the other feed's copy counts as unchanged instead of flip-flopping the row.
    /// </summary>
    /// <exception cref="InvalidOperationException">The feed is not stored (see FeedStateStore.EnsureAsync).</exception>
    public async Task<SaveResult> SaveAsync(string feed, IReadOnlyList<NewPost> posts, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var connection = await db.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var exists = connection.CreateCommand("SELECT 1 FROM feeds WHERE name = @feed", transaction))
        {
            exists.AddParameter("feed", feed);
            if (await exists.ExecuteScalarAsync(ct) is null)
            {
                throw new InvalidOperationException(
                    $"Cannot save posts of feed '{feed}': it is not in the feeds table of the {db}; ensure the feed first.");
            }
        }

        await using var insert = connection.CreateCommand(InsertSql, transaction);
        AddPostParameters(insert, feed, now);
        await using var find = connection.CreateCommand(
            "SELECT id, feed, content_hash, updated FROM posts WHERE key = @key", transaction);
        find.AddParameter("key", null);
        await using var update = connection.CreateCommand(UpdateSql, transaction);
        AddPostParameters(update, feed, now);
        update.AddParameter("id", null);
        await using var deleteTopics = connection.CreateCommand("DELETE FROM post_topics WHERE post_id = @id", transaction);
        deleteTopics.AddParameter("id", null);
        await using var insertTopic = connection.CreateCommand(
            "INSERT INTO post_topics (post_id, topic) VALUES (@id, @topic) ON CONFLICT DO NOTHING", transaction);
        insertTopic.AddParameter("id", null);
        insertTopic.AddParameter("topic", null);
        await using var insertSearch = connection.CreateCommand(db.Dialect.InsertSearchSql, transaction);
        AddSearchParameters(insertSearch);
        await using var replaceSearch = connection.CreateCommand(db.Dialect.ReplaceSearchSql, transaction);
        AddSearchParameters(replaceSearch);
        foreach (var command in (DbCommand[])[insert, find, update, deleteTopics, insertTopic, insertSearch, replaceSearch])
        {
            await command.PrepareAsync(ct);
        }

        var inserted = new List<long>();
        var updated = 0;
        var unchanged = 0;
        foreach (var post in posts)
        {
            SetPostParameters(insert, post);
            var id = await insert.ExecuteScalarAsync(ct);
            long postId;
            DbCommand index;
            if (id is not null)
            {
                postId = (long)id;
                inserted.Add(postId);
                index = insertSearch;
            }
            else
            {
                find.SetParameter("key", post.Key);
                (postId, var edited) = await FindEditAsync(find, feed, post, ct);
                if (!edited)
                {
                    unchanged++;
                    continue;
                }

                SetPostParameters(update, post);
                update.SetParameter("id", postId);
                await update.ExecuteNonQueryAsync(ct);
                deleteTopics.SetParameter("id", postId);
                await deleteTopics.ExecuteNonQueryAsync(ct);
                index = replaceSearch;
                updated++;
            }

            insertTopic.SetParameter("id", postId);
            foreach (var topic in post.Topics)
            {
                insertTopic.SetParameter("topic", topic);
                await insertTopic.ExecuteNonQueryAsync(ct);
            }

            index.SetParameter("id", postId);
            index.SetParameter("title", post.Title);
            index.SetParameter("summary", post.Summary);
            index.SetParameter("body", ExtractText(post.ContentHtml));
            await index.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
        return new SaveResult(inserted, updated, unchanged);
    }

    /// <summary>The newest posts first (by published date, else first seen), optionally only those tagged <paramref name="topic"/>.</summary>
    public async Task<IReadOnlyList<Post>> LatestAsync(int count, string? topic, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var filter = topic is null
            ? ""
            : "WHERE EXISTS (SELECT 1 FROM post_topics t WHERE t.post_id = posts.id AND t.topic = @topic)";
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand($"""
            SELECT {PostColumns} FROM posts {filter}
            ORDER BY coalesce(published, first_seen) DESC, id DESC
            LIMIT @count
            """);
        command.AddParameter("count", count);
        if (topic is not null)
        {
            command.AddParameter("topic", topic);
        }

        return await ReadPostsAsync(connection, command, ct);
    }

    /// <summary>
    /// Posts published (else first seen) in <c>[from, to)</c>, newest first, at most <see cref="DigestPostLimit"/>: what a
    /// digest covers. A post backfilled with an old date is not news and stays out.
    /// </summary>
    public async Task<IReadOnlyList<Post>> PublishedBetweenAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand($"""
            SELECT {PostColumns} FROM posts
            WHERE coalesce(published, first_seen) >= @from AND coalesce(published, first_seen) < @to
            ORDER BY coalesce(published, first_seen) DESC, id DESC
            LIMIT @count
            """);
        command.AddParameter("from", from);
        command.AddParameter("to", to);
        command.AddParameter("count", DigestPostLimit);
        return await ReadPostsAsync(connection, command, ct);
    }

    public async Task<Post?> GetAsync(long id, CancellationToken ct)
    {
        var posts = await GetManyAsync([id], ct);
        return posts.Count == 0 ? null : posts[0];
    }

    /// <summary>The posts with these ids, in the order asked; ids not stored are left out.</summary>
    public async Task<IReadOnlyList<Post>> GetManyAsync(IReadOnlyList<long> ids, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        await using var connection = await db.OpenAsync(ct);
        var found = new Dictionary<long, Post>();
        // Chunked so the parameter count stays far below every provider's limit (SQLite: 32766, PostgreSQL: 65535).
        foreach (var chunk in ids.Distinct().Chunk(500))
        {
            await using var command = connection.CreateCommand(
                $"SELECT {PostColumns} FROM posts WHERE id IN ({InList(chunk.Length)})");
            AddInListParameters(command, chunk);
            foreach (var post in await ReadPostsAsync(connection, command, ct))
            {
                found[post.Id] = post;
            }
        }

        var posts = new List<Post>(found.Count);
        foreach (var id in ids)
        {
            if (found.TryGetValue(id, out var post))
            {
                posts.Add(post);
            }
        }

        return posts;
    }

    /// <summary>
    /// Posts holding all of <paramref name="words"/> (stemmed: "sanctions" finds "sanction"), best match first;
    /// a title match ranks above a body match. Any text is safe: search operators in it are taken as words.
    /// </summary>
    public async Task<IReadOnlyList<Post>> SearchAsync(string words, int count, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var query = db.Dialect.FormatSearchQuery(words);
        if (query is null || count == 0)
        {
            return [];
        }

        var ids = new List<long>();
        await using (var connection = await db.OpenAsync(ct))
        {
            await using var command = connection.CreateCommand(db.Dialect.SearchSql);
            command.AddParameter("query", query);
            command.AddParameter("count", count);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        return await GetManyAsync(ids, ct);
    }

    public async Task<int> CountAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("SELECT COUNT(*) FROM posts");
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    private static async Task<(long Id, bool Edited)> FindEditAsync(DbCommand find, string feed, NewPost post, CancellationToken ct)
    {
        await using var reader = await find.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            throw new InvalidOperationException($"Post '{post.Key}' conflicted on insert but is not stored.");
        }

        var id = reader.GetInt64(0);
        var owner = reader.GetString(1);
        var edited = owner == feed
            && (reader.GetString(2) != post.ContentHash
                || reader.GetNullableString(3) != (post.Updated is { } u ? DbExtensions.FormatTimestamp(u) : null));
        return (id, edited);
    }

    private static void AddPostParameters(DbCommand command, string feed, DateTimeOffset now)
    {
        command.AddParameter("feed", feed);
        command.AddParameter("now", now);
        foreach (var name in (string[])["key", "url", "title", "author", "published", "updated", "labels", "content_html", "summary", "content_hash"])
        {
            command.AddParameter(name, null);
        }
    }

    private static void AddSearchParameters(DbCommand command)
    {
        foreach (var name in (string[])["id", "title", "summary", "body"])
        {
            command.AddParameter(name, null);
        }
    }

    private static void SetPostParameters(DbCommand command, NewPost post)
    {
        command.SetParameter("key", post.Key);
        command.SetParameter("url", post.Url);
        command.SetParameter("title", post.Title);
        command.SetParameter("author", post.Author);
        command.SetParameter("published", post.Published);
        command.SetParameter("updated", post.Updated);
        command.SetParameter("labels", JsonSerializer.Serialize(post.Labels));
        command.SetParameter("content_html", post.ContentHtml);
        command.SetParameter("summary", post.Summary);
        command.SetParameter("content_hash", post.ContentHash);
    }

    private static async Task<List<Post>> ReadPostsAsync(DbConnection connection, DbCommand command, CancellationToken ct)
    {
        var posts = new List<Post>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                posts.Add(new Post(
                    Id: reader.GetInt64(0),
                    Feed: reader.GetString(1),
                    Key: reader.GetString(2),
                    Url: reader.GetNullableString(3),
                    Title: reader.GetString(4),
                    Author: reader.GetNullableString(5),
                    Published: reader.GetNullableTimestamp(6),
                    Updated: reader.GetNullableTimestamp(7),
                    Labels: JsonSerializer.Deserialize<string[]>(reader.GetString(8)) ?? [],
                    Topics: [],
                    ContentHtml: reader.GetString(9),
                    Summary: reader.GetString(10),
                    FirstSeen: reader.GetTimestamp(11)));
            }
        }

        if (posts.Count == 0)
        {
            return posts;
        }

        var topics = new Dictionary<long, List<string>>();
        foreach (var chunk in posts.Select(p => p.Id).Chunk(500))
        {
            await using var select = connection.CreateCommand(
                $"SELECT post_id, topic FROM post_topics WHERE post_id IN ({InList(chunk.Length)}) ORDER BY post_id, topic");
            AddInListParameters(select, chunk);
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var postId = reader.GetInt64(0);
                if (!topics.TryGetValue(postId, out var list))
                {
                    topics[postId] = list = [];
                }

                list.Add(reader.GetString(1));
            }
        }

        for (var i = 0; i < posts.Count; i++)
        {
            if (topics.TryGetValue(posts[i].Id, out var list))
            {
                posts[i] = posts[i] with { Topics = list };
            }
        }

        return posts;
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

    /// <summary>Plain text of post HTML for the search index, so tag and attribute names are not indexed as words.</summary>
    private static string ExtractText(string html)
    {
        return WebUtility.HtmlDecode(Tag().Replace(html, " "));
    }

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tag();
}
