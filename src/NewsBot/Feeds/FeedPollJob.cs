using Hangfire;

using NewsBot.Delivery;

namespace NewsBot.Feeds;

/// <summary>
/// The <c>poll-feed:&lt;name&gt;</c> recurring job. It takes the source's name, never a feed object, so a retry
/// re-reads the state; the store's identity check makes a re-run harmless.
/// </summary>
public sealed class FeedPollJob(FeedRefresher refresher, IBackgroundJobClient jobs)
{
    public static string JobId(string feed) => $"poll-feed:{feed}";

    // Failures back off by the feed's own schedule (FeedsOptions.FirstBackoff), so Hangfire must not retry on top.
    [AutomaticRetry(Attempts = 0, LogEvents = false)]
    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    [JobDisplayName("poll-feed:{0}")]
    public async Task PollFeedAsync(string feed, CancellationToken ct)
    {
        var result = await refresher.RefreshFeedAsync(feed, force: false, progress: null, ct);
        // Only the ids this poll inserted (and not the history a first poll stores): an edited post is never announced again.
        if (result.AnnouncePostIds.Count > 0)
        {
            var postIds = result.AnnouncePostIds.ToArray();
            jobs.Enqueue<AnnounceJob>(j => j.AnnouncePostsAsync(postIds, CancellationToken.None));
        }
    }
}
