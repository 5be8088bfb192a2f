using Hangfire;

using Microsoft.Extensions.Options;

namespace NewsBot.Email;

/// <summary>Declares the <c>bounce-mailbox</c> recurring job at start when the mailbox is enabled, and removes it when not.</summary>
public sealed class BounceScheduler(IRecurringJobManager recurringJobs, IOptions<BounceOptions> options, ILogger<BounceScheduler> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            recurringJobs.RemoveIfExists(BounceMailboxJob.JobId);
            logger.LogInformation("Bounce mailbox is off: set {Section}:Enabled and the IMAP settings to suppress bounced and complaining addresses", BounceOptions.Section);
            return Task.CompletedTask;
        }

        recurringJobs.AddOrUpdate<BounceMailboxJob>(BounceMailboxJob.JobId, j => j.PollJobAsync(CancellationToken.None), o.Cron,
            new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        logger.LogInformation("Bounce mailbox: {Folder} on {Host}:{Port} as {User}, '{Cron}'", o.Folder, o.Host, o.Port, o.Username, o.Cron);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
