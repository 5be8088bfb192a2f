using Hangfire;

namespace NewsBot.Delivery;

/// <summary>
/// In every instance: about twice a lease, rows whose lease ran out (their process died mid-chunk) go back to
/// pending, and only those get dispatch jobs again, one per chunk they were claimed in. The release is one atomic
/// statement (<see cref="DeliveryStore.ReleaseExpiredLeasesAsync"/>), so with several instances sweeping, each row
/// is released and re-dispatched by one of them.
/// </summary>
public sealed class LeaseSweeper(DeliveryStore store, IBackgroundJobClient jobs, TimeProvider time, ILogger<LeaseSweeper> logger)
    : BackgroundService
{
    /// <summary>Releases the expired leases and dispatches their rows again; returns how many rows.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var released = await store.ReleaseExpiredLeasesAsync(ct);
        foreach (var (sendId, range) in released)
        {
            jobs.Enqueue<DispatchJob>(j => j.DispatchAsync(sendId, range.FirstId, range.LastId, CancellationToken.None));
            logger.LogWarning("Send {SendId}: the lease of {Count} deliveries (rows {First}-{Last}) ran out; they are pending and dispatched again",
                sendId, range.Count, range.FirstId, range.LastId);
        }

        return released.Sum(r => r.Range.Count);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(store.LeaseDuration / 2, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The database may be away for a moment; the next tick tries again.
                logger.LogError(e, "Sweeping expired delivery leases failed");
            }
        }
    }
}
