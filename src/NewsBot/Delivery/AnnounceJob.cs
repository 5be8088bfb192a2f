using Hangfire;

using NewsBot.Subscribers;

namespace NewsBot.Delivery;

/// <summary>
/// Announces posts ingestion inserted: one instant send per post. The unique index on ingest sends makes a re-run
/// create nothing; a send whose planning was cut off is planned again.
/// </summary>
public sealed class AnnounceJob(DeliveryPlanner planner, DeliveryStore store, ILogger<AnnounceJob> logger)
{
    public const string RequestedBy = "ingest";

    [AutomaticRetry(Attempts = 3)]
    [JobDisplayName("announce posts {0}")]
    public async Task AnnouncePostsAsync(long[] postIds, CancellationToken ct)
    {
        foreach (var postId in postIds)
        {
            var plan = await planner.PlanAsync(new SendRequest("post", postId, Cadence.Instant, null, null, DryRun: false, RequestedBy), ct);
            if (plan.SendId is null && await store.FindIngestSendAsync(postId, ct) is { PlannedAt: null } unplanned)
            {
                await planner.ResumeAsync(unplanned.Id, ct);
            }
            else if (plan.SendId is { } sendId)
            {
                logger.LogInformation("Post {PostId}: send {SendId} to {Count} recipients", postId, sendId, plan.Audience.Values.Sum());
            }
        }
    }
}
