using Microsoft.Extensions.Options;

using NewsBot.Subscribers;

namespace NewsBot.Telegram;

/// <summary>
/// Makes <c>NewsBot:Telegram:Channels</c> the broadcast subscribers at service start: each configured chat is an
/// instant subscriber of its topics, a chat taken out of the list is unsubscribed. The planner, the ledger and the
/// lane then treat a channel like any chat. Then, without holding up the start, it asks Telegram whether the bot
/// may post in each one and logs a warning for each it may not.
/// </summary>
public sealed class BroadcastChannels(
    IOptions<TelegramOptions> options,
    SubscriberStore subscribers,
    TelegramChannel channel,
    ILogger<BroadcastChannels> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the base start, so the rows exist before the first announced post is planned.
        await SyncChannelsAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>Writes the configured channels into the subscribers; returns what changed.</summary>
    public async Task<BroadcastSyncResult> SyncChannelsAsync(CancellationToken ct)
    {
        var targets = options.Value.Channels.Select(c => new BroadcastTarget(c.Chat.Trim(), c.Topics)).ToList();
        var result = await subscribers.SyncBroadcastsAsync(targets, ct);
        if (targets.Count > 0 || result.Deactivated > 0)
        {
            logger.LogInformation("Telegram channels: {Count} configured ({Added} new, {Updated} kept), {Deactivated} no longer configured and unsubscribed",
                targets.Count, result.Added, result.Updated, result.Deactivated);
        }

        return result;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var configured in options.Value.Channels)
        {
            var address = SubscriberStore.NormalizeAddress(Channels.Telegram, configured.Chat);
            if (await channel.CheckPostRightsAsync(address, stoppingToken) is { } problem)
            {
                logger.LogWarning("Telegram channel {Chat} will not get posts: {Problem}", configured.Chat, problem);
            }
        }
    }
}
