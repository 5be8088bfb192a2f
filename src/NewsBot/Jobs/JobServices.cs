using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.InMemory;

using Microsoft.Extensions.Options;

using NewsBot.Admin;

namespace NewsBot.Jobs;

public static class JobServices
{
    /// <summary>
    /// Hangfire on in-memory storage: the queue is lost on restart, the work is not, because every job re-reads
    /// its state from the NewsBot database.
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
            return new InMemoryStorage(new InMemoryStorageOptions { MaxExpirationTime = TimeSpan.FromHours(3) });
        });
        builder.Services.AddHangfire(config => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings());
        builder.Services.AddHangfireServer(server => server.WorkerCount = Math.Max(2, Environment.ProcessorCount * 2));
        return builder;
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
