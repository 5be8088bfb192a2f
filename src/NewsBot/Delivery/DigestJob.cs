using Hangfire;

using NewsBot.Subscribers;

namespace NewsBot.Delivery;

/// <summary>The <c>digest:daily</c> and <c>digest:weekly</c> recurring jobs.</summary>
public sealed class DigestJob(DeliveryPlanner planner, DeliveryStore store, ILogger<DigestJob> logger)
{
    public const string RequestedBy = "schedule";

    public static string JobId(Cadence cadence) => $"digest:{cadence.ToString().ToLowerInvariant()}";

    [AutomaticRetry(Attempts = 3)]
    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    [JobDisplayName("digest:{0}")]
    public async Task SendDigestAsync(string cadence, CancellationToken ct)
    {
        var parsed = cadence switch
        {
            "daily" => Cadence.Daily,
            "weekly" => Cadence.Weekly,
            _ => throw new ArgumentException($"Digest cadence '{cadence}' is unknown: use 'daily' or 'weekly'.", nameof(cadence)),
        };

        // A digest still going out has not moved its subscribers' last digest time yet; a second one now would
        // list the same posts to them again. A digest whose planning was cut off is finished instead.
        var unfinished = (await store.ListUnfinishedSendsAsync(ct)).FirstOrDefault(s => s.Kind == "digest" && s.Cadence == parsed);
        if (unfinished is not null)
        {
            if (unfinished.PlannedAt is null)
            {
                await planner.ResumeAsync(unfinished.Id, ct);
            }

            logger.LogWarning("Digest {Cadence}: send {SendId} is still going out; no new digest now", cadence, unfinished.Id);
            return;
        }

        var plan = await planner.PlanAsync(new SendRequest("digest", null, parsed, null, null, DryRun: false, RequestedBy), ct);
        logger.LogInformation("Digest {Cadence}: send {SendId} to {Count} recipients", cadence, plan.SendId, plan.Audience.Values.Sum());
    }
}
