using Hangfire;

using Microsoft.Extensions.Options;

namespace NewsBot.Delivery;

/// <summary>
/// At service start: Hangfire.InMemory forgot its queue, the ledger did not. Rows left sending by the process that
/// died go back to pending, each unfinished send's pending rows get dispatch jobs again, and a send whose planning
/// was cut off is planned again.
/// </summary>
public sealed class DeliveryRecovery(
    DeliveryStore store,
    IBackgroundJobClient jobs,
    IOptions<DeliveryOptions> options,
    ILogger<DeliveryRecovery> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var released = await store.ReleaseSendingAsync(cancellationToken);
        if (released > 0)
        {
            logger.LogWarning("{Count} deliveries were sending when NewsBot stopped; they are pending again", released);
        }

        foreach (var send in await store.ListUnfinishedSendsAsync(cancellationToken))
        {
            var ranges = await store.ListPendingRangesAsync(send.Id, options.Value.ChunkSize, cancellationToken);
            foreach (var range in ranges)
            {
                jobs.Enqueue<DispatchJob>(j => j.DispatchAsync(send.Id, range.FirstId, range.LastId, CancellationToken.None));
            }

            if (send.PlannedAt is null)
            {
                jobs.Enqueue<DeliveryPlanner>(p => p.ResumeAsync(send.Id, CancellationToken.None));
            }

            logger.LogInformation("Send {SendId} resumes: {Chunks} chunks of pending deliveries{Planning}", send.Id, ranges.Count,
                send.PlannedAt is null ? ", planning again" : "");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
