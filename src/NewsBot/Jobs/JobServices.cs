using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;

using Microsoft.Extensions.Options;

using NewsBot.Admin;
using NewsBot.Storage;

using Npgsql;

namespace NewsBot.Jobs;

public static class JobServices
{
    /// <summary>The PostgreSQL schema Hangfire's tables live in, apart from NewsBot's own.</summary>
    public const string SchemaName = "hangfire";

    /// <summary>
    /// Hangfire on the store's provider: with sqlite, in-memory storage (one instance; the queue is lost on restart,
    /// the work is not, because every job re-reads its state from the NewsBot database); with postgresql, the same
    /// database, schema <c>hangfire</c>, shared by every instance, so a recurring job fires once per occurrence
    /// across instances (Hangfire's scheduler takes a distributed lock) and a queued job runs on one of them.
    /// </summary>
    public static IHostApplicationBuilder AddJobs(this IHostApplicationBuilder builder)
    {
        // The storage is this host's own service, not Hangfire's static JobStorage.Current: UseXxxStorage sets that
        // process-wide, so two hosts in one process (the tests, a CLI verb inside the service) could enqueue into
        // each other's queue, and the other host's workers would run the job against its own database.
        // Likewise the activator: Hangfire's default registration copies the process-wide JobActivator.Current, which
        // the last host configured points at its own container, so a job could run with another host's services.
        builder.Services.AddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        // Made after IGlobalConfiguration, which points Hangfire's (also process-wide) log provider at this host's
        // loggers: the storage takes its logger when it is constructed.
        builder.Services.AddSingleton<JobStorage>(sp =>
        {
            sp.GetRequiredService<IGlobalConfiguration>();
            var database = sp.GetRequiredService<IOptions<StorageOptions>>().Value.Database;
            return database.Provider == Db.PostgresqlProvider
                ? CreatePostgresqlStorage(database.ConnectionString!)
                : new InMemoryStorage(new InMemoryStorageOptions { MaxExpirationTime = TimeSpan.FromHours(3) });
        });
        builder.Services.AddHangfire((sp, config) => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseLogProvider(new HostLogProvider(sp.GetRequiredService<ILoggerFactory>())));
        builder.Services.AddHangfireServer(server => server.WorkerCount = Math.Max(2, Environment.ProcessorCount * 2));
        return builder;
    }

    /// <summary>
    /// Hangfire.PostgreSql on NewsBot's database, in its own schema, which it creates or upgrades when constructed;
    /// under the store's migration lock, so instances starting together on a fresh database install it one at a time
    /// (its install scripts take no lock of their own: two concurrent CREATE SCHEMA would fail one start).
    /// </summary>
    public static PostgreSqlStorage CreatePostgresqlStorage(string connectionString)
    {
        var options = new PostgreSqlStorageOptions
        {
            SchemaName = SchemaName,
            PrepareSchemaIfNecessary = true,
            // The default starts without storage when the install fails and retries later; NewsBot's store is on the
            // same server and was just migrated, so a failure here is a real fault and must stop the start.
            AllowDegradedModeWithoutStorage = false,
            // Each idle worker polls the queue this often (one indexed SELECT ... FOR UPDATE SKIP LOCKED): a dispatch
            // or announce job waits at most a second, not the default 15 s, for a few queries a second per instance.
            QueuePollInterval = TimeSpan.FromSeconds(1),
            // A job fetched by an instance that dies becomes visible to the others after InvisibilityTimeout.
            // Sliding: the fetching server renews it while the job runs, so a long dispatch chunk (500 Telegram rows
            // at 30/s shared by instances) is not handed to a second worker while it runs, and a killed instance's
            // jobs come back in a minute, not the default 30. The ledger's claim makes a second run harmless anyway.
            UseSlidingInvisibilityTimeout = true,
            InvisibilityTimeout = TimeSpan.FromMinutes(1),
        };
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(SqlDialect.Postgresql.LockMigrationsSql!, connection);
        command.ExecuteNonQuery();
        try
        {
            return new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
        }
        finally
        {
            command.CommandText = SqlDialect.Postgresql.UnlockMigrationsSql!;
            command.ExecuteNonQuery();
        }
    }

    /// <summary>The dashboard at <c>/hangfire</c>: local requests, or the admin token from elsewhere.</summary>
    public static WebApplication MapJobs(this WebApplication app)
    {
        app.MapHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new DashboardAuthorization(app.Services.GetRequiredService<IOptions<AdminOptions>>().Value)],
            DashboardTitle = "NewsBot jobs",
        });
        return app;
    }
}
