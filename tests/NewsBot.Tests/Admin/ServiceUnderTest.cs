using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

using NewsBot;

namespace NewsBot.Tests.Admin;

/// <summary>The real service (Program.BuildService) started in process on a loopback port over a fresh data directory.</summary>
public sealed class ServiceUnderTest : IAsyncDisposable
{
    private readonly TestHost? ownedHost;
    private bool disposed;

    private ServiceUnderTest(TestHost? ownedHost, WebApplication app, HttpClient http)
    {
        this.ownedHost = ownedHost;
        App = app;
        Http = http;
    }

    public WebApplication App { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => App.Services;

    public static Task<ServiceUnderTest> StartAsync(params (string Key, string? Value)[] settings) =>
        StartAsync(TestHost.DefaultProvider, settings);

    /// <summary>The service with its database on <paramref name="provider"/> (see <see cref="TestHost.Create(string, ValueTuple{string, string}[])"/>).</summary>
    public static Task<ServiceUnderTest> StartAsync(string provider, params (string Key, string? Value)[] settings) =>
        StartAsync(TestHost.Create(provider, settings));

    /// <summary>The service over <paramref name="host"/>'s settings; disposing the service disposes the host.</summary>
    public static Task<ServiceUnderTest> StartAsync(TestHost host) => StartAsync(host, ownsHost: true);

    /// <summary>
    /// A service over <paramref name="host"/>'s settings and database, which the caller keeps and disposes: several
    /// services on one PostgreSQL database are several instances of one deployment.
    /// </summary>
    public static Task<ServiceUnderTest> StartOnAsync(TestHost host) => StartAsync(host, ownsHost: false);

    private static async Task<ServiceUnderTest> StartAsync(TestHost host, bool ownsHost)
    {
        var args = host.Configuration.Select(s => $"--{s.Key}={s.Value}").Append("--urls=http://127.0.0.1:0").ToArray();
        var app = Program.BuildService(args);
        await app.PrepareAsync(CancellationToken.None);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ServiceUnderTest(ownsHost ? host : null, app, new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) });
    }

    /// <summary>Every job's states with their reasons and exceptions, for a failure message.</summary>
    public string DescribeJobs()
    {
        var monitoring = Services.GetRequiredService<Hangfire.JobStorage>().GetMonitoringApi();
        var ids = monitoring.ScheduledJobs(0, 50).Select(j => j.Key)
            .Concat(monitoring.FailedJobs(0, 50).Select(j => j.Key))
            .Concat(monitoring.EnqueuedJobs("default", 0, 50).Select(j => j.Key))
            .Concat(monitoring.ProcessingJobs(0, 50).Select(j => j.Key))
            .Concat(monitoring.SucceededJobs(0, 50).Select(j => j.Key));
        return string.Join("\n", ids.Select(id => id + ": " + string.Join(" <- ", monitoring.JobDetails(id).History
            .Select(h => $"{h.StateName} {h.Reason} {string.Join(", ", h.Data.Select(d => d.Key + "=" + d.Value))}"))));
    }

    public async ValueTask DisposeAsync()
    {
        // A test may stop one of several instances early (a clean stop) and dispose the rest at the end.
        if (disposed)
        {
            return;
        }

        disposed = true;
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        ownedHost?.Dispose();
    }
}
