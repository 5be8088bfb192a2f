using System.Security.Cryptography;

using Microsoft.Extensions.Options;

using MimeKit;

using NewsBot.Delivery;
using NewsBot.Subscribers;

namespace NewsBot.Email;

/// <summary>What processing one report did.</summary>
/// <param name="AlreadyRecorded">The report was processed before: nothing was counted or changed this time.</param>
public sealed record BounceOutcome(string ReportKey, ReportType Type, bool AlreadyRecorded, IReadOnlyList<NewBounce> Bounces);

/// <summary>
/// Acts on one report from the bounce mailbox: finds our recipient, suppresses the address for a hard bounce or a
/// complaint, counts soft bounces toward the threshold, and records it all under the report's key, so a report read
/// twice changes nothing the second time.
/// </summary>
public sealed class BounceProcessor(
    BounceStore bounces,
    SubscriberStore subscribers,
    DeliveryStore deliveries,
    IOptions<BounceOptions> options,
    TimeProvider time,
    ILogger<BounceProcessor> logger)
{
    /// <summary>The report's Message-ID (RFC 5322 §3.6.4: unique per message), or a digest of its content without one.</summary>
    public static string ReportKey(MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!string.IsNullOrWhiteSpace(message.MessageId))
        {
            return "message-id:" + message.MessageId.Trim();
        }

        using var content = new MemoryStream();
        message.WriteTo(content);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content.ToArray()));
    }

    public async Task<BounceOutcome> ProcessReportAsync(MimeMessage message, CancellationToken ct)
    {
        var key = ReportKey(message);
        var report = BounceReport.Parse(message);
        if (await bounces.IsRecordedAsync(key, ct))
        {
            return new BounceOutcome(key, report.Type, AlreadyRecorded: true, []);
        }

        // DispatchJob sends each message to one recipient, so the ledger row the report names is the address that
        // bounced, even when the report shows where it was forwarded to (RFC 3464 §2.3.2 Final-Recipient).
        var ledgerAddress = report.Reference is { } reference && report.Recipients.Count == 1
            ? await deliveries.FindAddressAsync(reference.IdempotencyKey, ct)
            : null;
        var recorded = new List<NewBounce>();
        foreach (var recipient in report.Recipients)
        {
            var address = ledgerAddress ?? recipient.Address;
            var subscriber = address is null ? null : await FindSubscriberAsync(address, ct);
            // Only an address we sent to is acted on: a forged or misdirected report about a stranger changes nothing.
            var ours = ledgerAddress is not null || subscriber is not null;
            var reason = ours ? await DecideSuppressionAsync(recipient, address!, ct) : null;
            if (reason is not null)
            {
                await subscribers.SuppressAsync(Channels.Email, address!, reason, ct);
                if (subscriber is not null)
                {
                    var status = recipient.Kind == BounceKind.Complaint ? ChannelStatus.Unsubscribed : ChannelStatus.Bounced;
                    await subscribers.SetChannelStatusAsync(Channels.Email, address!, status, ct);
                }
            }

            recorded.Add(new NewBounce(
                address,
                subscriber?.Id ?? (ledgerAddress is null ? null : report.Reference!.Value.SubscriberId),
                ledgerAddress is null ? null : report.Reference!.Value.SendId,
                recipient.Kind, recipient.Status, recipient.Action, recipient.Diagnostic, reason));
            logger.LogInformation(
                "Bounce report {Key}: {Kind} for {Address} ({Status}){Suppressed}",
                key, recipient.Kind, address ?? "an unknown recipient", recipient.Status ?? recipient.Action ?? "no status",
                reason is null ? (ours ? "" : "; not a subscriber, nothing changed") : "; suppressed: " + reason);
        }

        // Recorded last: a crash before this line leaves the report unrecorded, and the next run applies it again,
        // which suppressing (an upsert) allows.
        var first = await bounces.RecordAsync(key, report.Type, recorded, ct);
        return new BounceOutcome(key, report.Type, AlreadyRecorded: !first, first ? recorded : []);
    }

    private async Task<Subscriber?> FindSubscriberAsync(string address, CancellationToken ct)
    {
        try
        {
            return await subscribers.FindByAddressAsync(Channels.Email, address, ct);
        }
        catch (SubscriberException)
        {
            // Not an address the subscriber store accepts, so none of ours.
            return null;
        }
    }

    private async Task<string?> DecideSuppressionAsync(BounceRecipient recipient, string address, CancellationToken ct)
    {
        var o = options.Value;
        switch (recipient.Kind)
        {
            case BounceKind.Hard:
                return $"hard bounce {recipient.Status ?? recipient.Action}: {recipient.Diagnostic ?? "no diagnostic"}";
            case BounceKind.Complaint:
                return "complaint: the reader reported the message as spam (ARF feedback-type abuse)";
            case BounceKind.Soft:
                // This report is not recorded yet: it is the +1.
                var count = await bounces.CountSoftBouncesAsync(address, time.GetUtcNow() - o.SoftBounceWindow, ct) + 1;
                return count >= o.SoftBounceThreshold
                    ? $"{count} soft bounces within {o.SoftBounceWindow.TotalDays:0.##} days, the last {recipient.Status ?? recipient.Action}"
                    : null;
            default:
                return null;
        }
    }
}
