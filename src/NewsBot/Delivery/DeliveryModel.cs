using NewsBot.Templates;

namespace NewsBot.Delivery;

/// <summary>The life of one ledger row (one message to one subscriber on one channel).</summary>
public enum DeliveryState { Pending, Sending, Sent, FailedTransient, FailedPermanent, Skipped }

/// <summary>One message ready for a channel. <see cref="IdempotencyKey"/> is unique per ledger row.</summary>
/// <param name="Body">Telegram text (HTML subset) or the email's HTML part.</param>
/// <param name="TextBody">The email's plain-text part; null for Telegram.</param>
/// <param name="Links">The recipient's own links (the email's List-Unsubscribe header); null where there are none.</param>
public sealed record OutgoingMessage(string IdempotencyKey, string Channel, string Address, string Subject, string Body, string? TextBody,
    SubscriberLinks? Links = null);

/// <summary>What a channel did with a message.</summary>
public enum ChannelOutcome { Sent, FailedTransient, FailedPermanent }

public sealed record ChannelResult(ChannelOutcome Outcome, string? Error = null)
{
    public static ChannelResult Sent { get; } = new(ChannelOutcome.Sent);

    /// <summary>Set when the channel sees it cannot go on (every message refused): the send pauses for an admin, with this reason.</summary>
    public string? PauseReason { get; init; }
}

/// <summary>
/// A way out to readers: the outbox now, Telegram and email in their own issues. The dispatcher owns this seam
/// (listmonk's Messenger): one implementation per channel, chosen by <see cref="Name"/>.
/// </summary>
public interface IChannel
{
    /// <summary>The channel name the ledger uses (<c>email</c>, <c>telegram</c>).</summary>
    string Name { get; }

    /// <summary>The most messages a second this channel sends; a send's ETA divides each channel's messages by it.</summary>
    double MessagesPerSecond { get; }

    /// <summary>Sends once. Must be idempotent on <see cref="OutgoingMessage.IdempotencyKey"/> where the medium allows.</summary>
    Task<ChannelResult> SendAsync(OutgoingMessage message, CancellationToken ct);
}
