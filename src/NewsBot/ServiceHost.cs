using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

using Hangfire;

using Microsoft.AspNetCore.HttpOverrides;

using Microsoft.Extensions.Options;

using NewsBot.Storage;

namespace NewsBot;

public static class ServiceHost
{
    /// <summary>Exit code for a start refused by configuration, distinct from a crash (1).</summary>
    public const int ConfigurationError = 2;

    public static readonly TimeSpan DatabaseCheckTimeout = TimeSpan.FromSeconds(5);

    private static readonly JsonSerializerOptions HealthJson = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>
    /// Behind a reverse proxy the connection comes from the proxy: take the client address and scheme from its
    /// <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c>, but only when the connection comes from one of
    /// <see cref="WebOptions.KnownProxies"/> (ASP.NET Core ForwardedHeadersMiddleware checks that per request).
    /// </summary>
    public static IHostApplicationBuilder AddForwardedHeaders(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebOptions>().BindConfiguration(WebOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<WebOptions>, WebOptionsValidator>();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<WebOptions>>((forwarded, web) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // The defaults (loopback) are replaced, not extended: the configured list is the whole list.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in web.Value.TrustedProxies)
            {
                if (IPAddress.TryParse(proxy, out var address))
                {
                    forwarded.KnownProxies.Add(address);
                }
                else
                {
                    forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(proxy));
                }
            }
        });
        return builder;
    }

    /// <summary>
    /// <c>GET /healthz</c> for a load balancer: 200 when the database answers a query on the migrated schema and
    /// this host's Hangfire storage answers a monitoring call, else 503 naming the failed check. Each check reports
    /// an exception's message only: Db and Npgsql messages name the database and host, never the password.
    /// </summary>
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapGet("/healthz", async (Db db, JobStorage jobs, CancellationToken ct) =>
        {
            var checks = new Dictionary<string, HealthCheck>
            {
                ["database"] = await CheckDatabaseAsync(db, ct),
                ["jobs"] = CheckJobs(jobs),
            };
            var healthy = checks.Values.All(c => c.Status == HealthCheck.Ok);
            return Results.Json(
                new HealthReport(healthy ? HealthCheck.Ok : HealthCheck.Failing, checks),
                HealthJson,
                statusCode: healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        return app;
    }

    /// <summary>
    /// A real query, not just a connection: a store whose schema is gone or unreadable fails too. Within
    /// <see cref="DatabaseCheckTimeout"/>: a server that accepts the connection and never answers must fail the check
    /// before the load balancer's own timeout. Npgsql does not cancel a connect stuck in its startup handshake, so the
    /// check stops waiting rather than relying on the token; the abandoned query still closes its connection.
    /// </summary>
    public static async Task<HealthCheck> CheckDatabaseAsync(Db db, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(DatabaseCheckTimeout);
        try
        {
            var version = await QuerySchemaVersionAsync(db, timeout.Token).WaitAsync(DatabaseCheckTimeout, ct);
            return new HealthCheck(HealthCheck.Ok) { SchemaVersion = version };
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return new HealthCheck(HealthCheck.Failing) { Error = $"{db} did not answer within {DatabaseCheckTimeout.TotalSeconds:0} s" };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new HealthCheck(HealthCheck.Failing) { Error = e.Message };
        }
    }

    private static async Task<long?> QuerySchemaVersionAsync(Db db, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var command = connection.CreateCommand("SELECT max(version) FROM schema_migrations");
        object? version;
        try
        {
            version = await command.ExecuteScalarAsync(ct);
        }
        catch (DbException e)
        {
            // A pooled connection the server ended (a restart, a database being dropped) fails here, not at open;
            // the answer names the database the way Db.OpenAsync's errors do.
            throw new InvalidOperationException($"The {db} failed the health query: {e.Message}", e);
        }

        return version is null or DBNull ? null : Convert.ToInt64(version, CultureInfo.InvariantCulture);
    }

    /// <summary>The host's own storage (in memory or PostgreSQL): how many job servers it saw beat in the last minute.</summary>
    public static HealthCheck CheckJobs(JobStorage jobs)
    {
        try
        {
            var servers = jobs.GetMonitoringApi().Servers();
            var alive = servers.Count(s => s.Heartbeat is { } beat && beat > DateTime.UtcNow.AddMinutes(-1));
            return new HealthCheck(HealthCheck.Ok) { Servers = alive };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new HealthCheck(HealthCheck.Failing) { Error = e.Message };
        }
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

    private sealed class WebOptionsValidator : IValidateOptions<WebOptions>
    {
        public ValidateOptionsResult Validate(string? name, WebOptions options)
        {
            var errors = options.Validate().ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }

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

/// <summary>The <c>/healthz</c> answer: <c>ok</c> or <c>failing</c>, and each check's.</summary>
public sealed record HealthReport(string Status, IReadOnlyDictionary<string, HealthCheck> Checks);

/// <summary>One check: its status and why it failed, with the database's schema version or Hangfire's live servers.</summary>
public sealed record HealthCheck(string Status)
{
    public const string Ok = "ok";
    public const string Failing = "failing";

    public string? Error { get; init; }

    public long? SchemaVersion { get; init; }

    public int? Servers { get; init; }
}
