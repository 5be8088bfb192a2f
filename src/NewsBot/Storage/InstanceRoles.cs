using Microsoft.Extensions.Options;

namespace NewsBot.Storage;

/// <summary>
/// Roles one instance of a deployment holds at a time, by a lease in the database (migration 0009): several
/// instances on one PostgreSQL, or a CLI beside the service on SQLite, agree on who does it.
/// </summary>
public sealed class InstanceRoles(Db db, IOptions<StorageOptions> storage, TimeProvider time)
{
    public string InstanceName => storage.Value.InstanceName;

    /// <summary>
    /// Takes or renews <paramref name="role"/> for <paramref name="duration"/>: true when this instance holds it now,
    /// false while another instance's lease runs. One statement, so two instances asking at once cannot both win.
    /// </summary>
    public async Task<bool> TryHoldAsync(string role, TimeSpan duration, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var connection = await db.OpenAsync(ct);
        await using var hold = connection.CreateCommand("""
            INSERT INTO instance_roles (name, owner, held_until) VALUES (@name, @owner, @until)
            ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, held_until = excluded.held_until
            WHERE instance_roles.owner = excluded.owner OR instance_roles.held_until < @now
            RETURNING owner
            """);
        hold.AddParameter("name", role);
        hold.AddParameter("owner", InstanceName);
        hold.AddParameter("until", now + duration);
        hold.AddParameter("now", now);
        return await hold.ExecuteScalarAsync(ct) is not null;
    }

    /// <summary>Who holds <paramref name="role"/> with a lease still running, or null.</summary>
    public async Task<string?> FindHolderAsync(string role, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var find = connection.CreateCommand("SELECT owner FROM instance_roles WHERE name = @name AND held_until >= @now");
        find.AddParameter("name", role);
        find.AddParameter("now", time.GetUtcNow());
        return await find.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>Gives <paramref name="role"/> up at once (a clean stop), so another instance need not wait for the lease to run out.</summary>
    public async Task ReleaseAsync(string role, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var release = connection.CreateCommand("DELETE FROM instance_roles WHERE name = @name AND owner = @owner");
        release.AddParameter("name", role);
        release.AddParameter("owner", InstanceName);
        await release.ExecuteNonQueryAsync(ct);
    }
}
