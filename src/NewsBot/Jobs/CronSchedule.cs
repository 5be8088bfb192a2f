using Cronos;

namespace NewsBot.Jobs;

/// <summary>Cron settings as Hangfire reads them, checked at start instead of when the job is first declared.</summary>
public static class CronSchedule
{
    /// <summary>Five fields, or six with seconds first (Hangfire takes both).</summary>
    public static bool IsValid(string? cron)
    {
        if (string.IsNullOrWhiteSpace(cron))
        {
            return false;
        }

        var format = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard;
        try
        {
            CronExpression.Parse(cron, format);
            return true;
        }
        catch (CronFormatException)
        {
            return false;
        }
    }
}
