using Microsoft.Extensions.Options;

namespace NewsBot.Storage;

/// <summary>
/// Where NewsBot keeps its state: files (outbox, keys) under <see cref="DataDirectory"/>, and the database, which is
/// the SQLite file <c>newsbot.db</c> there unless <c>NewsBot:Database</c> names another.
/// </summary>
public sealed class StorageOptions
{
    public string DataDirectory { get; set; } = "./data";

    public DatabaseOptions Database { get; set; } = new();

    /// <summary>
    /// <c>NewsBot:InstanceName</c>: this process among those sharing the database, written as the owner of the ledger
    /// rows it leases. The default, machine name and process id, differs between processes; set it to find an
    /// instance's rows by a name of your own.
    /// </summary>
    public string InstanceName { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    public string DatabasePath => Path.GetFullPath(Path.Combine(DataDirectory, "newsbot.db"));
}

/// <summary>The <c>NewsBot:Database</c> section.</summary>
public sealed class DatabaseOptions
{
    /// <summary><c>sqlite</c> (one instance, a file in the data directory) or <c>postgresql</c> (several instances can share it).</summary>
    public string Provider { get; set; } = Db.SqliteProvider;

    /// <summary>
    /// For postgresql, an Npgsql connection string (<c>Host=db;Database=newsbot;Username=newsbot;Password=...</c>);
    /// for sqlite, unused: the file is <see cref="StorageOptions.DatabasePath"/>.
    /// </summary>
    public string? ConnectionString { get; set; }
}

public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            errors.Add("NewsBot:DataDirectory is empty: give a folder for the database and outbox");
        }

        if (string.IsNullOrWhiteSpace(options.InstanceName) || options.InstanceName.Length > 200)
        {
            errors.Add($"NewsBot:InstanceName '{options.InstanceName}' must be 1 to 200 characters: it names this process on the ledger rows it leases");
        }

        var database = options.Database;
        switch (database.Provider)
        {
            case Db.SqliteProvider:
                if (!string.IsNullOrWhiteSpace(database.ConnectionString))
                {
                    errors.Add("NewsBot:Database:ConnectionString is set but the provider is sqlite, whose file is always "
                        + "newsbot.db in NewsBot:DataDirectory: remove it, or set NewsBot:Database:Provider to postgresql");
                }

                break;
            case Db.PostgresqlProvider:
                if (string.IsNullOrWhiteSpace(database.ConnectionString))
                {
                    errors.Add("NewsBot:Database:ConnectionString is empty: the postgresql provider needs one, such as "
                        + "Host=localhost;Database=newsbot;Username=newsbot;Password=...");
                }
                else if (Db.CheckPostgresqlConnectionString(database.ConnectionString) is { } problem)
                {
                    errors.Add($"NewsBot:Database:ConnectionString {problem}");
                }

                break;
            default:
                errors.Add($"NewsBot:Database:Provider '{database.Provider}' is not one of {Db.SqliteProvider}, {Db.PostgresqlProvider}");
                break;
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
