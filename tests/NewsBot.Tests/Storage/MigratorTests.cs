using System.Data.Common;

using NewsBot.Storage;

namespace NewsBot.Tests.Storage;

/// <summary>The migrator on each provider: the same migrations, versions and refusals.</summary>
public abstract class MigratorTests(string provider) : IDisposable
{
    protected static readonly CancellationToken Ct = CancellationToken.None;

    protected TempDatabase Temp { get; } = new(provider);

    public void Dispose()
    {
        Temp.Dispose();
        GC.SuppressFinalize(this);
    }

    [SkippableFact]
    public async Task MigrateAsync_OnFirstRun_CreatesSchema()
    {
        var applied = await new Migrator(Temp.Db).MigrateAsync(Ct);

        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9], applied);
        await using var connection = await Temp.Db.OpenAsync(Ct);
        var tables = await ReadColumnAsync(connection, ListTablesSql);
        Assert.Equal(
            ["bounce_reports", "bounces", "deliveries", "feeds", "instance_roles", "post_topics", "posts", "posts_fts", "schema_migrations",
                "secrets", "send_lane_chats", "send_lanes", "send_messages", "sends", "subscriber_channels", "subscriber_topics", "subscribers", "suppressions"],
            tables.Where(t => !t.StartsWith("posts_fts_", StringComparison.Ordinal) && !t.StartsWith("sqlite_", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Contains("post_topics_topic", await ReadColumnAsync(connection, ListIndexesSql("post_topics")));
        var appliedAt = await ReadColumnAsync(connection, "SELECT applied_at FROM schema_migrations WHERE version = 1");
        var at = DbExtensions.ParseTimestamp(Assert.Single(appliedAt));
        Assert.InRange(at, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [SkippableFact]
    public async Task MigrateAsync_AfterRestart_AppliesNothingAndKeepsData()
    {
        var firstRun = await new Migrator(Temp.Db).MigrateAsync(Ct);
        await using (var connection = await Temp.Db.OpenAsync(Ct))
        await using (var insert = connection.CreateCommand("INSERT INTO feeds (name, url) VALUES ('kept', 'https://example.org/feed')"))
        {
            await insert.ExecuteNonQueryAsync(Ct);
        }

        var restarted = Temp.Open();
        var applied = await new Migrator(restarted).MigrateAsync(Ct);
        var appliedAgain = await new Migrator(restarted).MigrateAsync(Ct);

        Assert.Empty(applied);
        Assert.Empty(appliedAgain);
        await using var reopened = await restarted.OpenAsync(Ct);
        Assert.Equal(firstRun.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)), await ReadColumnAsync(reopened, "SELECT version FROM schema_migrations ORDER BY version"));
        Assert.Equal(["kept"], await ReadColumnAsync(reopened, "SELECT name FROM feeds"));
    }

    [SkippableFact]
    public async Task MigrateAsync_DatabaseFromNewerVersion_RefusesWithClearError()
    {
        var known = await new Migrator(Temp.Db).MigrateAsync(Ct);
        await using (var connection = await Temp.Db.OpenAsync(Ct))
        await using (var insert = connection.CreateCommand(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (42, 'from_the_future', '2030-01-01T00:00:00.000Z')"))
        {
            await insert.ExecuteNonQueryAsync(Ct);
        }

        var restarted = Temp.Open();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => new Migrator(restarted).MigrateAsync(Ct));

        Assert.Contains("schema version 42", error.Message);
        Assert.Contains($"only up to {known[^1]}", error.Message);
        Assert.Contains("newer NewsBot", error.Message);
        Assert.Contains(restarted.ToString(), error.Message);
    }

    [SkippableFact]
    public async Task NowSql_IsTheStoredTimestampFormat()
    {
        await using var connection = await Temp.Db.OpenAsync(Ct);

        var now = Assert.Single(await ReadColumnAsync(connection, $"SELECT {Temp.Db.Dialect.NowSql}"));

        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", now);
        Assert.InRange(DbExtensions.ParseTimestamp(now), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    protected abstract string ListTablesSql { get; }

    protected abstract string ListIndexesSql(string table);

    protected static async Task<List<string>> ReadColumnAsync(DbConnection connection, string sql)
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

public sealed class MigratorSqliteTests() : MigratorTests(Db.SqliteProvider)
{
    protected override string ListTablesSql => "SELECT name FROM sqlite_master WHERE type = 'table'";

    [Fact]
    public void Constructor_UnknownProvider_NamesItAndTheSupportedOnes()
    {
        var error = Assert.Throws<ArgumentException>(() => new Db("oracle", "Data Source=x.db"));

        Assert.Contains("'oracle'", error.Message);
        Assert.Contains("sqlite", error.Message);
        Assert.Contains("postgresql", error.Message);
    }

    [Fact]
    public async Task MigrateAsync_OnFirstRun_CreatesDirectoryAndFile()
    {
        Assert.False(Directory.Exists(Path.GetDirectoryName(Temp.FilePath)));

        await new Migrator(Temp.Db).MigrateAsync(Ct);

        Assert.True(File.Exists(Temp.FilePath));
    }

    [Fact]
    public async Task OpenAsync_SetsWalForeignKeysAndBusyTimeout()
    {
        await using var connection = await Temp.Db.OpenAsync(Ct);

        Assert.Equal(["wal"], await ReadColumnAsync(connection, "PRAGMA journal_mode"));
        Assert.Equal(["1"], await ReadColumnAsync(connection, "PRAGMA foreign_keys"));
        Assert.Equal(["5000"], await ReadColumnAsync(connection, "PRAGMA busy_timeout"));
    }

    protected override string ListIndexesSql(string table) => $"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}'";
}

public sealed class MigratorPostgresqlTests() : MigratorTests(Db.PostgresqlProvider)
{
    protected override string ListTablesSql => "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'";

    [SkippableFact]
    public async Task Migrations_SearchDocumentIsIndexedByGin()
    {
        await new Migrator(Temp.Db).MigrateAsync(Ct);
        await using var connection = await Temp.Db.OpenAsync(Ct);

        var definition = Assert.Single(await ReadColumnAsync(connection, "SELECT indexdef FROM pg_indexes WHERE indexname = 'posts_fts_document'"));

        Assert.Contains("USING gin (document)", definition);
    }

    [SkippableFact]
    public async Task MigrateAsync_InstancesStartingTogether_ApplyEachMigrationOnce()
    {
        var instances = Enumerable.Range(0, 3).Select(_ => Temp.Open()).ToList();

        var applied = await Task.WhenAll(instances.Select(db => Task.Run(() => new Migrator(db).MigrateAsync(Ct))));

        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9], applied.SelectMany(a => a).Order());
        await using var connection = await Temp.Db.OpenAsync(Ct);
        Assert.Equal(["1", "2", "3", "4", "5", "6", "7", "8", "9"], await ReadColumnAsync(connection, "SELECT version FROM schema_migrations ORDER BY version"));
    }

    [Fact]
    public void Constructor_ConnectionStringWithoutHost_SaysWhatIsMissing()
    {
        var error = Assert.Throws<ArgumentException>(() => new Db(Db.PostgresqlProvider, "Database=newsbot;Username=newsbot"));

        Assert.Contains("names no Host", error.Message);
    }

    [Fact]
    public void Constructor_UnreadableConnectionString_NamesTheProblem()
    {
        var error = Assert.Throws<ArgumentException>(() => new Db(Db.PostgresqlProvider, "Host=db;Colour=blue"));

        Assert.Contains("not an Npgsql connection string", error.Message);
        Assert.Contains("colour", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task OpenAsync_UnreachableServer_NamesDatabaseAndServer()
    {
        using var db = new Db(Db.PostgresqlProvider, "Host=127.0.0.1;Port=1;Database=nowhere;Username=newsbot;Timeout=2");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => db.OpenAsync(Ct));

        Assert.Contains("postgresql database 'nowhere' on 127.0.0.1:1", error.Message);
        Assert.DoesNotContain("Username", error.Message);
    }

    protected override string ListIndexesSql(string table) => $"SELECT indexname FROM pg_indexes WHERE tablename = '{table}'";
}
