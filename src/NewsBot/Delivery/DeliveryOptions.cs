using NewsBot.Jobs;

namespace NewsBot.Delivery;

/// <summary>The <c>NewsBot:Delivery</c> section.</summary>
public sealed class DeliveryOptions
{
    public const string Section = "NewsBot:Delivery";

    /// <summary>Ledger rows per transaction and per dispatch job.</summary>
    public int ChunkSize { get; set; } = 500;

    public string DailyCron { get; set; } = "0 7 * * *";

    public string WeeklyCron { get; set; } = "0 7 * * 1";

    /// <summary>IANA time zone the digest crons run in.</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>Files the outbox writes per second, for the ETA. A real channel gives its own rate (Telegram: its lane's).</summary>
    public double OutboxRatePerSecond { get; set; } = 500;

    /// <summary>
    /// How long a claimed ledger row stays with the job that claimed it without a renewal. The job renews it every
    /// third of this while it sends; a row whose lease ran out (its process died) goes back to pending and is sent
    /// by whichever instance sweeps it first, so a crash delays its rows by about this much.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Every failure names its key.</summary>
    public IEnumerable<string> Validate()
    {
        if (ChunkSize is < 1 or > 10_000)
        {
            yield return $"{Section}:ChunkSize {ChunkSize} must be between 1 and 10000";
        }

        foreach (var (key, cron) in new (string, string)[] { ("DailyCron", DailyCron), ("WeeklyCron", WeeklyCron) })
        {
            if (!CronSchedule.IsValid(cron))
            {
                yield return $"{Section}:{key} '{cron}' is not a cron expression (five fields, e.g. '0 7 * * *')";
            }
        }

        if (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _))
        {
            yield return $"{Section}:TimeZone '{TimeZone}' is not a known IANA time zone (e.g. 'Europe/Berlin', 'UTC')";
        }

        // A renewal every third of the lease needs a few seconds of room over a database round trip and a pause.
        if (LeaseDuration < TimeSpan.FromSeconds(5))
        {
            yield return $"{Section}:LeaseDuration {LeaseDuration} must be at least 00:00:05";
        }

        if (!(OutboxRatePerSecond > 0) || double.IsInfinity(OutboxRatePerSecond))
        {
            yield return $"{Section}:OutboxRatePerSecond {OutboxRatePerSecond} must be a positive number";
        }
    }
}
