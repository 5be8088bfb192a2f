using Microsoft.Data.Sqlite;

using NewsBot.Storage;

namespace NewsBot.Tests.Storage;

/// <summary>A SQLite file in a fresh temp directory (which does not exist until first open), deleted on dispose.</summary>
public sealed class TempDatabase : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "newsbot-tests", Guid.NewGuid().ToString("N"));

    public TempDatabase()
    {
        FilePath = Path.Combine(_root, "data", "newsbot.db");
        Db = Db.Sqlite(FilePath);
    }

    public string FilePath { get; }

    public Db Db { get; }

    /// <summary>A migrated database on a new <see cref="Storage.Db"/> instance, as after a restart.</summary>
    public async Task<Db> OpenMigratedAsync()
    {
        var db = Db.Sqlite(FilePath);
        await new Migrator(db).MigrateAsync(CancellationToken.None);
        return db;
    }

    public void Dispose()
    {
        // Pooled connections keep the file open; release them before deleting.
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
