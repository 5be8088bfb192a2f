using System.Globalization;
using System.Text.RegularExpressions;

using NewsBot.Delivery;
using NewsBot.Subscribers;

namespace NewsBot.Email;

/// <summary>
/// The ledger row an email belongs to, carried where a bounce brings it back: in the envelope sender
/// (VERP, <c>bounce+12-34@example.org</c>: send 12, subscriber 34) and in the Message-ID
/// (<c>send.12.sub.34.email@example.org</c>, the idempotency key with <c>:</c> as <c>.</c>, see
/// <see cref="OutboxChannel"/>). Both name the row by <see cref="DeliveryStore.IdempotencyKey"/>.
/// </summary>
public readonly partial record struct VerpAddress(long SendId, long SubscriberId)
{
    /// <summary>
    /// Postfix's default <c>recipient_delimiter</c>: <c>bounce+anything@</c> is delivered to <c>bounce@</c>
    /// (postconf(5)), so one mailbox receives every VERP address.
    /// </summary>
    public const char Delimiter = '+';

    /// <summary>The ledger row's idempotency key (email channel).</summary>
    public string IdempotencyKey => DeliveryStore.IdempotencyKey(SendId, SubscriberId, Channels.Email);

    /// <summary>
    /// The envelope sender for this row: <paramref name="returnPath"/> (<c>bounce@example.org</c>) with
    /// <c>+SEND-SUBSCRIBER</c> after its local part.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="returnPath"/> is not a plain <c>local@domain</c> address.</exception>
    public string Format(string returnPath)
    {
        var at = returnPath.LastIndexOf('@');
        if (at <= 0 || at == returnPath.Length - 1 || returnPath.AsSpan(0, at).Contains(Delimiter) || returnPath.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException(
                $"Return path '{returnPath}' must be a plain address such as 'bounce@example.org', without '{Delimiter}' in its local part.",
                nameof(returnPath));
        }

        return string.Create(CultureInfo.InvariantCulture, $"{returnPath[..at]}{Delimiter}{SendId}-{SubscriberId}{returnPath[at..]}");
    }

    /// <summary>Reads the row from a VERP address (angle brackets and case do not matter); false for any other address.</summary>
    public static bool TryParse(string? address, out VerpAddress verp)
    {
        verp = default;
        var match = address is null ? null : VerpShape().Match(address.Trim());
        return match is { Success: true } && TryCreate(match.Groups["send"].Value, match.Groups["sub"].Value, out verp);
    }

    /// <summary>Reads the row from a Message-ID NewsBot wrote (with or without angle brackets); false for any other id.</summary>
    public static bool TryParseMessageId(string? messageId, out VerpAddress verp)
    {
        verp = default;
        var match = messageId is null ? null : MessageIdShape().Match(messageId.Trim());
        return match is { Success: true } && TryCreate(match.Groups["send"].Value, match.Groups["sub"].Value, out verp);
    }

    /// <summary>Reads the row from an email ledger row's idempotency key (<c>send:12:sub:34:email</c>); false for any other key.</summary>
    public static bool TryParseKey(string idempotencyKey, out VerpAddress verp) =>
        TryParseMessageId(idempotencyKey.Replace(':', '.') + "@key", out verp);

    private static bool TryCreate(string send, string subscriber, out VerpAddress verp)
    {
        verp = default;
        if (!long.TryParse(send, NumberStyles.None, CultureInfo.InvariantCulture, out var sendId)
            || !long.TryParse(subscriber, NumberStyles.None, CultureInfo.InvariantCulture, out var subscriberId))
        {
            return false;
        }

        verp = new VerpAddress(sendId, subscriberId);
        return true;
    }

    [GeneratedRegex(@"^<?[^@<>\s+]+\+(?<send>[0-9]{1,18})-(?<sub>[0-9]{1,18})@[^@<>\s]+>?$", RegexOptions.CultureInvariant)]
    private static partial Regex VerpShape();

    [GeneratedRegex(@"^<?send\.(?<send>[0-9]{1,18})\.sub\.(?<sub>[0-9]{1,18})\.email@[^@<>\s]+>?$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex MessageIdShape();
}
