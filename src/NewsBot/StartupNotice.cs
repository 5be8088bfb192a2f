namespace NewsBot;

/// <summary>
/// One log line at start for a feature that is switched off, so an admin knows why nothing is sent. Registered as
/// a plain <c>IHostedService</c> singleton: <c>AddHostedService</c> keeps one instance per type and would drop all
/// notices but the first.
/// </summary>
public sealed class StartupNotice(ILogger<StartupNotice> logger, string message) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("{Notice}", message);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
