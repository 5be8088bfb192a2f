using System.Data.Common;

using Microsoft.Data.Sqlite;

namespace NewsBot.Storage;

/// <summary>
/// The database: which provider, where, and how a connection is opened. Everything provider-specific
/// (connection type, pragmas, SQL dialect, migration folder) is decided here and in <see cref="SqlDialect"/>;
/// stores only see <see cref="DbConnection"/>.
/// </summary>
public sealed class Db
{
    private bool _directoryCreated;

    public Db(string provider, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        Dialect = provider switch
        {
            "sqlite" => SqlDialect.Sqlite,
            _ => throw new ArgumentException(
                $"Unknown database provider '{provider}'; supported: sqlite.", nameof(provider)),
        };
        ConnectionString = connectionString;
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
        return new Db("sqlite", builder.ToString());
    }

    public async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
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
    public override string ToString() => $"{Dialect.Name} database '{new SqliteConnectionStringBuilder(ConnectionString).DataSource}'";

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
