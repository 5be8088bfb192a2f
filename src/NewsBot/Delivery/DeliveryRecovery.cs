using Hangfire;

namespace NewsBot.Delivery;

/// <summary>
/// At service start: Hangfire.InMemory forgot its queue, the ledger did not. Rows whose lease ran out (the process
/// that held them died) go back to pending, each unfinished send's pending rows get dispatch jobs again, and a send
/// whose planning was cut off is planned again. Rows under a live lease are left to their holder: another instance,
/// or the CLI sending beside the service; <see cref="LeaseSweeper"/> frees them if that one dies.
/// </summary>
public sealed class DeliveryRecovery(
    DeliveryStore store,
    DeliveryPlanner planner,
    IBackgroundJobClient jobs,
    ILogger<DeliveryRecovery> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Dispatched below with the rest of their send's pending rows, so not by the release itself.
        var released = (await store.ReleaseExpiredLeasesAsync(cancellationToken)).Sum(r => r.Range.Count);
        if (released > 0)
        {
            logger.LogWarning("{Count} deliveries were sending under a lease that ran out; they are pending again", released);
        }

        foreach (var send in await store.ListUnfinishedSendsAsync(cancellationToken))
        {
            var chunks = await planner.DispatchPendingAsync(send.Id, cancellationToken);
            if (send.PlannedAt is null)
            {
                jobs.Enqueue<DeliveryPlanner>(p => p.ResumeAsync(send.Id, CancellationToken.None));
            }

            logger.LogInformation("Send {SendId} resumes: {Chunks} chunks of pending deliveries{Planning}", send.Id, chunks,
                send.PlannedAt is null ? ", planning again" : "");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
