using Microsoft.Extensions.Options;

namespace NewsBot.Storage;

public static class StorageServices
{
    public static IHostApplicationBuilder AddStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StorageOptions>()
            .BindConfiguration("NewsBot")
            .Validate(o => !string.IsNullOrWhiteSpace(o.DataDirectory), "NewsBot:DataDirectory is empty: give a folder for the database and outbox")
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => Db.Sqlite(sp.GetRequiredService<IOptions<StorageOptions>>().Value.DatabasePath));
        return builder;
    }

    /// <summary>Applies pending schema migrations; the service and every CLI verb call it before touching data.</summary>
    public static Task MigrateStorageAsync(this IServiceProvider services, CancellationToken ct) =>
        new Migrator(services.GetRequiredService<Db>()).MigrateAsync(ct);
}
