using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;

namespace NewsBot.Storage;

/// <summary>
/// Brings the schema up to date at start. Migrations are the embedded files
/// <c>Storage/Migrations/{provider}/NNNN_name.sql</c>, applied in version order, each in its own transaction
/// together with its <c>schema_migrations</c> row, so a crash leaves either all or none of a migration.
/// </summary>
public sealed partial class Migrator(Db db)
{
    private const string CreateVersionTableSql = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )
        """;

    /// <summary>Applies the migrations the database lacks and returns their versions (empty when up to date).</summary>
    /// <exception cref="InvalidOperationException">The database was migrated by a newer NewsBot.</exception>
    public async Task<IReadOnlyList<int>> MigrateAsync(CancellationToken ct)
    {
        var migrations = LoadMigrations(db.Dialect.Name);
        await using var connection = await db.OpenAsync(ct);
        if (db.Dialect.LockMigrationsSql is { } lockSql)
        {
            await using var lockMigrations = connection.CreateCommand(lockSql);
            await lockMigrations.ExecuteNonQueryAsync(ct);
        }

        try
        {
            return await MigrateAsync(connection, migrations, ct);
        }
        finally
        {
            if (db.Dialect.UnlockMigrationsSql is { } unlockSql)
            {
                await using var unlock = connection.CreateCommand(unlockSql);
                await unlock.ExecuteNonQueryAsync(CancellationToken.None);
            }
        }
    }

    private async Task<IReadOnlyList<int>> MigrateAsync(DbConnection connection, List<Migration> migrations, CancellationToken ct)
    {
        await using (var create = connection.CreateCommand(CreateVersionTableSql))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        var newestKnown = migrations.Count == 0 ? 0 : migrations[^1].Version;
        var newestApplied = await ReadNewestVersionAsync(connection, null, ct);
        if (newestApplied > newestKnown)
        {
            throw new InvalidOperationException(
                $"The {db} has schema version {newestApplied}, but this NewsBot knows migrations only up to "
                + $"{newestKnown}: it was written by a newer NewsBot. Refusing to start; run the newer version "
                + "or restore a backup taken before the upgrade.");
        }

        var applied = new List<int>();
        foreach (var migration in migrations)
        {
            if (migration.Version <= newestApplied)
            {
                continue;
            }

            await using var transaction = await connection.BeginTransactionAsync(ct);
            // Another process may have migrated since we looked; the transaction holds the write lock now.
            if (await ReadNewestVersionAsync(connection, transaction, ct) >= migration.Version)
            {
                continue;
            }

            try
            {
                await using (var apply = connection.CreateCommand(migration.Sql, transaction))
                {
                    await apply.ExecuteNonQueryAsync(ct);
                }

                await using (var record = connection.CreateCommand(
                    $"INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, {db.Dialect.NowSql})",
                    transaction))
                {
                    record.AddParameter("version", migration.Version);
                    record.AddParameter("name", migration.Name);
                    await record.ExecuteNonQueryAsync(ct);
                }
            }
            catch (DbException e)
            {
                throw new InvalidOperationException(
                    $"Migration {migration.ResourceName} failed on the {db}: {e.Message}", e);
            }

            await transaction.CommitAsync(ct);
            applied.Add(migration.Version);
        }

        return applied;
    }

    private static async Task<int> ReadNewestVersionAsync(DbConnection connection, DbTransaction? transaction, CancellationToken ct)
    {
        await using var command = connection.CreateCommand("SELECT MAX(version) FROM schema_migrations", transaction);
        var value = await command.ExecuteScalarAsync(ct);
        return value is null or DBNull ? 0 : Convert.ToInt32(value, CultureInfo.InvariantCulture);
    }

    private static List<Migration> LoadMigrations(string provider)
    {
        var assembly = typeof(Migrator).Assembly;
        var prefix = $"{typeof(Migrator).Namespace}.Migrations.{provider}.";
        var migrations = new List<Migration>();
        foreach (var resourceName in assembly.GetManifestResourceNames())
        {
            if (!resourceName.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var fileName = resourceName[prefix.Length..];
            var match = MigrationFileName().Match(fileName);
            if (!match.Success)
            {
                throw new InvalidOperationException(
                    $"Embedded migration '{resourceName}' is not named NNNN_name.sql.");
            }

            using var stream = assembly.GetManifestResourceStream(resourceName)!;
            using var reader = new StreamReader(stream);
            migrations.Add(new Migration(
                int.Parse(match.Groups["version"].Value, CultureInfo.InvariantCulture),
                match.Groups["name"].Value,
                resourceName,
                reader.ReadToEnd()));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 1; i < migrations.Count; i++)
        {
            if (migrations[i].Version == migrations[i - 1].Version)
            {
                throw new InvalidOperationException(
                    $"Migrations '{migrations[i - 1].ResourceName}' and '{migrations[i].ResourceName}' share version {migrations[i].Version}.");
            }
        }

        return migrations;
    }

    [GeneratedRegex(@"^(?<version>\d{4})_(?<name>[A-Za-z0-9_]+)\.sql$")]
    private static partial Regex MigrationFileName();

    private sealed record Migration(int Version, string Name, string ResourceName, string Sql);
}
