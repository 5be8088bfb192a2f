using Microsoft.Data.Sqlite;

using NewsBot.Storage;

namespace NewsBot.Tests.Storage;

/// <summary>
/// A database of its own for one test: a SQLite file in a fresh temp directory (which does not exist until first
/// open), or a fresh PostgreSQL database (created on first use, so a missing server is a skip inside the test).
/// Everything is deleted on dispose.
/// </summary>
public sealed class TempDatabase(string provider = Db.SqliteProvider) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "newsbot-tests", Guid.NewGuid().ToString("N"));
    private readonly List<Db> _opened = [];
    private string? _postgresql;
    private Db? _db;

    public string Provider => provider;

    /// <summary>The SQLite file (sqlite only).</summary>
    public string FilePath => Path.Combine(_root, "data", "newsbot.db");

    public Db Db => _db ??= Open();

    /// <summary>A new <see cref="Storage.Db"/> instance over the same database, as after a restart.</summary>
    public Db Open()
    {
        Db db;
        if (provider == Db.PostgresqlProvider)
        {
            _postgresql ??= TestPostgres.CreateDatabase();
            db = new Db(Db.PostgresqlProvider, _postgresql);
        }
        else
        {
            db = Db.Sqlite(FilePath);
        }

        _opened.Add(db);
        return db;
    }

    /// <summary>A migrated database on a new <see cref="Storage.Db"/> instance, as after a restart.</summary>
    public async Task<Db> OpenMigratedAsync()
    {
        var db = Open();
        await new Migrator(db).MigrateAsync(CancellationToken.None);
        return db;
    }

    public void Dispose()
    {
        foreach (var db in _opened)
        {
            db.Dispose();
        }

        if (_postgresql is not null)
        {
            TestPostgres.DropDatabase(_postgresql);
        }

        // Pooled connections keep the file open; release them before deleting.
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
