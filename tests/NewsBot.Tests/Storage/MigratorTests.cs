using System.Data.Common;

using NewsBot.Storage;

namespace NewsBot.Tests.Storage;

public sealed class MigratorTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task MigrateAsync_OnFirstRun_CreatesDirectoryFileAndSchema()
    {
        using var temp = new TempDatabase();
        Assert.False(Directory.Exists(Path.GetDirectoryName(temp.FilePath)));

        var applied = await new Migrator(temp.Db).MigrateAsync(Ct);

        Assert.Equal([1, 2, 3, 4, 5, 6], applied);
        Assert.True(File.Exists(temp.FilePath));
        await using var connection = await temp.Db.OpenAsync(Ct);
        var tables = await ReadColumnAsync(connection, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
        Assert.Contains("feeds", tables);
        Assert.Contains("posts", tables);
        Assert.Contains("post_topics", tables);
        Assert.Contains("posts_fts", tables);
        Assert.Contains("schema_migrations", tables);
        Assert.Contains("subscribers", tables);
        Assert.Contains("subscriber_channels", tables);
        Assert.Contains("subscriber_topics", tables);
        Assert.Contains("suppressions", tables);
        var indexes = await ReadColumnAsync(connection, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'post_topics'");
        Assert.Contains("post_topics_topic", indexes);
        var appliedAt = await ReadColumnAsync(connection, "SELECT applied_at FROM schema_migrations WHERE version = 1");
        var at = DbExtensions.ParseTimestamp(Assert.Single(appliedAt));
        Assert.InRange(at, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task MigrateAsync_AfterRestart_AppliesNothingAndKeepsData()
    {
        using var temp = new TempDatabase();
        var firstRun = await new Migrator(temp.Db).MigrateAsync(Ct);
        await using (var connection = await temp.Db.OpenAsync(Ct))
        await using (var insert = connection.CreateCommand("INSERT INTO feeds (name, url) VALUES ('kept', 'https://example.org/feed')"))
        {
            await insert.ExecuteNonQueryAsync(Ct);
        }

        var restarted = Db.Sqlite(temp.FilePath);
        var applied = await new Migrator(restarted).MigrateAsync(Ct);
        var appliedAgain = await new Migrator(restarted).MigrateAsync(Ct);

        Assert.Empty(applied);
        Assert.Empty(appliedAgain);
        await using var reopened = await restarted.OpenAsync(Ct);
        Assert.Equal(firstRun.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)), await ReadColumnAsync(reopened, "SELECT version FROM schema_migrations ORDER BY version"));
        Assert.Equal(["kept"], await ReadColumnAsync(reopened, "SELECT name FROM feeds"));
    }

    [Fact]
    public async Task MigrateAsync_DatabaseFromNewerVersion_RefusesWithClearError()
    {
        using var temp = new TempDatabase();
        var known = await new Migrator(temp.Db).MigrateAsync(Ct);
        await using (var connection = await temp.Db.OpenAsync(Ct))
        await using (var insert = connection.CreateCommand(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (42, 'from_the_future', '2030-01-01T00:00:00.000Z')"))
        {
            await insert.ExecuteNonQueryAsync(Ct);
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => new Migrator(Db.Sqlite(temp.FilePath)).MigrateAsync(Ct));

        Assert.Contains("schema version 42", error.Message);
        Assert.Contains($"only up to {known[^1]}", error.Message);
        Assert.Contains("newer NewsBot", error.Message);
        Assert.Contains(temp.FilePath, error.Message);
    }

    [Fact]
    public async Task OpenAsync_SetsWalForeignKeysAndBusyTimeout()
    {
        using var temp = new TempDatabase();
        await using var connection = await temp.Db.OpenAsync(Ct);

        Assert.Equal(["wal"], await ReadColumnAsync(connection, "PRAGMA journal_mode"));
        Assert.Equal(["1"], await ReadColumnAsync(connection, "PRAGMA foreign_keys"));
        Assert.Equal(["5000"], await ReadColumnAsync(connection, "PRAGMA busy_timeout"));
    }

    [Fact]
    public void Constructor_UnknownProvider_NamesItAndTheSupportedOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => new Db("oracle", "Data Source=x.db"));

        Assert.Contains("'oracle'", error.Message);
        Assert.Contains("sqlite", error.Message);
    }

    private static async Task<List<string>> ReadColumnAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var values = new List<string>();
        while (await reader.ReadAsync(Ct))
        {
            values.Add(Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!);
        }

        return values;
    }
}
