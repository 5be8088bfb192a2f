using Hangfire;

using Microsoft.Extensions.Options;

using NewsBot.Subscribers;

namespace NewsBot.Delivery;

/// <summary>Declares the <c>digest:daily</c> and <c>digest:weekly</c> recurring jobs at every start.</summary>
public sealed class DigestScheduler(IRecurringJobManager recurringJobs, IOptions<DeliveryOptions> options, ILogger<DigestScheduler> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var timeZone = TimeZoneInfo.FindSystemTimeZoneById(o.TimeZone);
        foreach (var (cadence, cron) in new[] { (Cadence.Daily, o.DailyCron), (Cadence.Weekly, o.WeeklyCron) })
        {
            var name = cadence.ToString().ToLowerInvariant();
            recurringJobs.AddOrUpdate<DigestJob>(DigestJob.JobId(cadence), j => j.SendDigestAsync(name, CancellationToken.None), cron,
                new RecurringJobOptions { TimeZone = timeZone });
            logger.LogInformation("Digest {Cadence}: '{Cron}' in {TimeZone}", name, cron, o.TimeZone);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
