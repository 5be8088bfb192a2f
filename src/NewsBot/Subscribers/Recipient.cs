namespace NewsBot.Subscribers;

/// <summary>How often a subscriber hears from us: each post as it comes, a digest, or nothing.</summary>
public enum Cadence { Instant, Daily, Weekly, Off }

/// <summary>The channels a subscriber can be reached on; the ledger stores the lower-case name.</summary>
public static class Channels
{
    public const string Email = "email";
    public const string Telegram = "telegram";

    public static IReadOnlyList<string> All { get; } = [Email, Telegram];
}

/// <summary>The state of one channel of a subscriber; only <see cref="Active"/> receives anything.</summary>
public enum ChannelStatus { Active, PendingConfirmation, Unsubscribed, Blocked, Bounced }

/// <summary>One active channel of one subscriber: the unit a send fans out to.</summary>
/// <param name="Topics">The subscriber's topics; empty means all topics.</param>
/// <param name="LastDigestAt">When this subscriber's last digest was sent; null before the first.</param>
/// <param name="Broadcast">A configured Telegram channel or group: its message carries no personal links.</param>
public sealed record Recipient(
    long SubscriberId,
    string Channel,
    string Address,
    IReadOnlyList<string> Topics,
    Cadence Cadence,
    string TimeZone,
    DateTimeOffset? LastDigestAt,
    bool Broadcast = false);

/// <summary>Who a send goes to.</summary>
/// <param name="Channels">Only these channels (names from <see cref="Subscribers.Channels"/>).</param>
/// <param name="Cadence">Only subscribers of this cadence; null for any cadence except <see cref="Cadence.Off"/>.</param>
/// <param name="AnyOfTopics">Only subscribers who take all topics or at least one of these; null for everyone.</param>
public sealed record RecipientFilter(IReadOnlyList<string> Channels, Cadence? Cadence, IReadOnlyList<string>? AnyOfTopics);
