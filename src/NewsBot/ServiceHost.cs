using Microsoft.Extensions.Options;

using NewsBot.Storage;

namespace NewsBot;

public static class ServiceHost
{
    /// <summary>Exit code for a start refused by configuration, distinct from a crash (1).</summary>
    public const int ConfigurationError = 2;

    /// <summary><c>GET /healthz</c>: 200 when the database answers.</summary>
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapGet("/healthz", async (Db db, CancellationToken ct) =>
        {
            await using var connection = await db.OpenAsync(ct);
            return Results.Text("ok");
        });
        return app;
    }

    /// <summary>Validates options, migrates the store, then serves until stopped. A wrong setting stops the start with one line per key.</summary>
    public static async Task<int> RunServiceAsync(this WebApplication app)
    {
        try
        {
            await app.PrepareAsync(app.Lifetime.ApplicationStopping);
            await app.RunAsync();
            return 0;
        }
        catch (Exception e) when (ConfigurationFailures(e) is { Count: > 0 } failures)
        {
            return ReportConfigurationError(failures, Console.Error);
        }
    }

    /// <summary>What must hold before the service starts: valid options, then a migrated store.</summary>
    public static async Task PrepareAsync(this WebApplication app, CancellationToken ct)
    {
        ValidateOptionsNow(app.Services);
        await app.Services.MigrateStorageAsync(ct);
    }

    /// <summary>
    /// <c>ValidateOnStart</c> runs only inside <c>StartAsync</c>; the store must not be migrated with settings
    /// that are wrong, so resolve every validated options type first.
    /// </summary>
    public static void ValidateOptionsNow(IServiceProvider services)
    {
        var validator = services.GetService<IStartupValidator>();
        validator?.Validate();
    }

    /// <summary>Every failure message of an options validation, whether thrown alone or several in an AggregateException.</summary>
    public static IReadOnlyList<string> ConfigurationFailures(Exception e) => e switch
    {
        OptionsValidationException o => [.. o.Failures],
        AggregateException a => [.. a.InnerExceptions.SelectMany(ConfigurationFailures)],
        _ => [],
    };

    public static int ReportConfigurationError(IReadOnlyList<string> failures, TextWriter error)
    {
        error.WriteLine("NewsBot cannot start: the configuration is wrong.");
        foreach (var failure in failures)
        {
            error.WriteLine("  " + failure);
        }

        return ConfigurationError;
    }
}
