using Microsoft.Extensions.Options;

namespace NewsBot.Storage;

public static class StorageServices
{
    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StorageOptions>().BindConfiguration("NewsBot").ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return options.Database.Provider == Db.PostgresqlProvider
                ? new Db(Db.PostgresqlProvider, options.Database.ConnectionString!)
                : Db.Sqlite(options.DatabasePath);
        });
        builder.Services.AddSingleton<InstanceRoles>();
        return builder;
    }

    /// <summary>Applies pending schema migrations; the service and every CLI verb call it before touching data.</summary>
    public static Task MigrateStorageAsync(this IServiceProvider services, CancellationToken ct) =>
        new Migrator(services.GetRequiredService<Db>()).MigrateAsync(ct);
}
