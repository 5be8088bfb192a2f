namespace NewsBot.Subscribers;

/// <summary>A subscriber to add: at least one of <see cref="Email"/> and <see cref="TelegramChatId"/>.</summary>
/// <param name="Topics">Topic names; empty means all topics.</param>
/// <param name="TimeZone">An IANA time zone id (<c>Asia/Tokyo</c>), for digest times.</param>
/// <param name="Status">The status both channels start in (<see cref="ChannelStatus.PendingConfirmation"/> for double opt-in).</param>
public sealed record NewSubscriber(
    string? Email,
    long? TelegramChatId,
    IReadOnlyList<string> Topics,
    Cadence Cadence,
    string TimeZone = "UTC",
    string? Name = null,
    ChannelStatus Status = ChannelStatus.Active);

/// <summary>A stored subscriber with all its channels, whatever their status.</summary>
/// <param name="Topics">Topic names, sorted; empty means all topics.</param>
/// <param name="Broadcast">A configured Telegram channel or group (<c>NewsBot:Telegram:Channels</c>), not a person.</param>
public sealed record Subscriber(
    long Id,
    string? Name,
    Cadence Cadence,
    string TimeZone,
    IReadOnlyList<string> Topics,
    IReadOnlyList<SubscriberChannel> Channels,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastDigestAt,
    bool Broadcast = false);

/// <param name="Channel">A name from <see cref="Subscribers.Channels"/>.</param>
/// <param name="Address">The email address (lower-case), the Telegram chat id, or a configured channel's <c>@username</c> (lower-case).</param>
public sealed record SubscriberChannel(string Channel, string Address, ChannelStatus Status);

/// <param name="Errors">One line per row not imported, in file order: <c>line 7: email 'bob@' is not an address</c>.</param>
public sealed record ImportResult(int Imported, int Skipped, IReadOnlyList<string> Errors);

/// <summary>Bad subscriber input or an address already taken; the message names the field and the value.</summary>
public sealed class SubscriberException(string message) : Exception(message);

/// <summary>A Telegram chat that gets every new post of its topics as a broadcast (one message, any number of readers).</summary>
/// <param name="Address">A chat id (negative for groups and channels) or a public <c>@username</c>.</param>
/// <param name="Topics">Topic names; empty means all topics.</param>
public sealed record BroadcastTarget(string Address, IReadOnlyList<string> Topics);

/// <param name="Added">Targets that had no subscriber row.</param>
/// <param name="Updated">Targets whose row existed (kept or taken over from a person's subscription), set to the configured topics.</param>
/// <param name="Deactivated">Broadcast rows no longer configured, now unsubscribed.</param>
public sealed record BroadcastSyncResult(int Added, int Updated, int Deactivated);
