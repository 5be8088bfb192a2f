using Hangfire;
using Hangfire.Storage;

using Microsoft.Extensions.Options;

namespace NewsBot.Feeds;

/// <summary>
/// Keeps one <c>poll-feed:&lt;name&gt;</c> recurring job per configured source, removes jobs of sources no longer
/// configured, and polls every source once at start so a fresh install has posts at once.
/// </summary>
public sealed class FeedScheduler(
    IRecurringJobManager recurringJobs,
    JobStorage jobStorage,
    IOptions<FeedsOptions> options,
    ILogger<FeedScheduler> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var configured = options.Value.Feeds.Select(f => FeedPollJob.JobId(f.Name)).ToHashSet(StringComparer.Ordinal);
        using (var connection = jobStorage.GetConnection())
        {
            foreach (var stale in connection.GetRecurringJobs().Where(j => j.Id.StartsWith("poll-feed:", StringComparison.Ordinal) && !configured.Contains(j.Id)))
            {
                recurringJobs.RemoveIfExists(stale.Id);
            }
        }

        foreach (var feed in options.Value.Feeds)
        {
            var jobId = FeedPollJob.JobId(feed.Name);
            recurringJobs.AddOrUpdate<FeedPollJob>(jobId, job => job.PollFeedAsync(feed.Name, CancellationToken.None), feed.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
            recurringJobs.Trigger(jobId);
            logger.LogInformation("Feed {Feed}: polling {Url} on '{Cron}' as job {JobId}", feed.Name, feed.Url, feed.Cron, jobId);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
