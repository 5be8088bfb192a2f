using System.Data.Common;

using Microsoft.Data.Sqlite;

using Npgsql;

namespace NewsBot.Storage;

/// <summary>
/// The database: which provider, where, and how a connection is opened. Everything provider-specific
/// (connection type, pragmas, SQL dialect, migration folder) is decided here and in <see cref="SqlDialect"/>;
/// stores only see <see cref="DbConnection"/>.
/// </summary>
public sealed class Db : IAsyncDisposable, IDisposable
{
    public const string SqliteProvider = "sqlite";

    public const string PostgresqlProvider = "postgresql";

    private readonly NpgsqlDataSource? _postgresql;
    private bool _directoryCreated;

    /// <exception cref="ArgumentException">Unknown provider, or a connection string the provider cannot read.</exception>
    public Db(string provider, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        Dialect = provider switch
        {
            SqliteProvider => SqlDialect.Sqlite,
            PostgresqlProvider => SqlDialect.Postgresql,
            _ => throw new ArgumentException(
                $"Unknown database provider '{provider}'; supported: {SqliteProvider}, {PostgresqlProvider}.", nameof(provider)),
        };
        ConnectionString = connectionString;
        if (provider == PostgresqlProvider)
        {
            if (CheckPostgresqlConnectionString(connectionString) is { } problem)
            {
                throw new ArgumentException($"The PostgreSQL connection string {problem}", nameof(connectionString));
            }

            // One pool per process (https://www.npgsql.org/doc/basic-usage.html#data-source): stores open and close a
            // connection per call, which the pool turns into a reused physical connection.
            var builder = new NpgsqlDataSourceBuilder(connectionString);
            if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
            {
                // https://www.npgsql.org/doc/prepare.html#automatic-preparation: a send repeats a few statements per
                // row (claim, mark), which the server would otherwise parse and plan every time. A positive
                // `Max Auto Prepare` in the connection string wins.
                builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
            }

            _postgresql = builder.Build();
        }
    }

    public SqlDialect Dialect { get; }

    public string ConnectionString { get; }

    /// <summary>A SQLite database in the file at <paramref name="path"/>; file and directory are created on first open.</summary>
    public static Db Sqlite(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(path),
            Mode = SqliteOpenMode.ReadWriteCreate,
        };
        return new Db(SqliteProvider, builder.ToString());
    }

    /// <summary>What is wrong with a PostgreSQL connection string (a sentence after its name), or null when it is usable.</summary>
    public static string? CheckPostgresqlConnectionString(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
        {
            return $"is not an Npgsql connection string: {e.Message}";
        }

        return string.IsNullOrWhiteSpace(builder.Host)
            ? "names no Host: give the PostgreSQL server, such as Host=localhost;Database=newsbot;Username=newsbot"
            : null;
    }

    public async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        if (_postgresql is not null)
        {
            try
            {
                return await _postgresql.OpenConnectionAsync(ct);
            }
            catch (NpgsqlException e)
            {
                throw new InvalidOperationException($"Cannot open the {this}: {e.Message}", e);
            }
        }

        // SQLite creates a missing file but not a missing directory. The journal mode is stored in the database
        // file (https://sqlite.org/wal.html §3.3), so it is set on the first open only, not on every connection.
        var firstOpen = !_directoryCreated;
        if (firstOpen)
        {
            CreateSqliteDirectory(ConnectionString);
            _directoryCreated = true;
        }

        var connection = new SqliteConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            await using var pragma = connection.CreateCommand();
            // WAL lets the web UI read while a refresh writes (https://sqlite.org/wal.html); foreign_keys is off
            // by default and per connection (https://sqlite.org/foreignkeys.html §2); busy_timeout makes a writer
            // wait for another writer instead of failing at once with SQLITE_BUSY. synchronous stays FULL: losing
            // the last commit on power loss would re-announce posts.
            pragma.CommandText = (firstOpen ? "PRAGMA journal_mode = WAL; " : "") + "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";
            await pragma.ExecuteNonQueryAsync(ct);
            return connection;
        }
        catch (SqliteException e)
        {
            await connection.DisposeAsync();
            throw new InvalidOperationException(
                $"Cannot open the SQLite database '{connection.DataSource}': {e.Message}", e);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Provider and location, for error messages; never the whole connection string (it may hold a password).</summary>
    public override string ToString()
    {
        if (_postgresql is not null)
        {
            var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
            return $"{Dialect.Name} database '{builder.Database ?? builder.Username}' on {builder.Host}:{builder.Port}";
        }

        return $"{Dialect.Name} database '{new SqliteConnectionStringBuilder(ConnectionString).DataSource}'";
    }

    public ValueTask DisposeAsync() => _postgresql?.DisposeAsync() ?? ValueTask.CompletedTask;

    public void Dispose() => _postgresql?.Dispose();

    private static void CreateSqliteDirectory(string connectionString)
    {
        var dataSource = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (dataSource.Length == 0 || dataSource == ":memory:" || dataSource.StartsWith("file:", StringComparison.Ordinal))
        {
            return;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(dataSource));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
    }
}
