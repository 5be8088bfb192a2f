using System.Text.RegularExpressions;

using MimeKit;

namespace NewsBot.Email;

/// <summary>What a report found in the bounce mailbox is.</summary>
public enum ReportType
{
    /// <summary>RFC 3464 delivery status notification: <c>multipart/report; report-type=delivery-status</c>.</summary>
    DeliveryStatus,

    /// <summary>RFC 5965 Abuse Reporting Format: <c>multipart/report; report-type=feedback-report</c>.</summary>
    FeedbackReport,

    /// <summary>Anything else: an auto-reply, a human answer, a bounce in no standard format.</summary>
    None,
}

/// <summary>What one recipient's report means for NewsBot.</summary>
public enum BounceKind
{
    /// <summary>Permanent failure (RFC 3463 class 5): suppress at once.</summary>
    Hard,

    /// <summary>Delayed, or a persistent transient failure (class 4): counts toward the soft-bounce threshold.</summary>
    Soft,

    /// <summary>The reader reported the message as spam (ARF <c>Feedback-Type: abuse</c>): suppress at once.</summary>
    Complaint,

    /// <summary>A feedback report that is no complaint (<c>auth-failure</c>, <c>not-spam</c>, ...): recorded only.</summary>
    Other,
}

/// <summary>One recipient of a report.</summary>
/// <param name="Address">The address NewsBot sent to: <c>Original-Recipient</c> when given, else <c>Final-Recipient</c>
/// (a DSN), or the reported recipient (ARF); null when the report does not say.</param>
/// <param name="Status">The RFC 3463 status code (<c>5.1.1</c>) of a DSN, or the ARF feedback type (<c>abuse</c>).</param>
/// <param name="Action">The DSN <c>Action</c> (<c>failed</c>, <c>delayed</c>); null for ARF.</param>
/// <param name="Diagnostic">The DSN <c>Diagnostic-Code</c> or the ARF <c>Auth-Failure</c>.</param>
public sealed record BounceRecipient(string? Address, BounceKind Kind, string? Status, string? Action, string? Diagnostic);

/// <summary>
/// A delivery status notification or feedback report, reduced to what NewsBot acts on: who, what kind, and which
/// of our messages it is about (<see cref="Reference"/>, from the VERP address or the returned Message-ID).
/// </summary>
/// <param name="MessageId">The report's own Message-ID; null when it has none.</param>
/// <param name="OriginalMessageId">The Message-ID of the returned message or headers.</param>
/// <param name="FeedbackType">The ARF <c>Feedback-Type</c>, lower-case; null for a DSN.</param>
public sealed partial record BounceReport(
    ReportType Type,
    string? MessageId,
    string? OriginalMessageId,
    VerpAddress? Reference,
    string? FeedbackType,
    IReadOnlyList<BounceRecipient> Recipients)
{
    /// <summary>Headers an MTA writes with the envelope recipient, which is the VERP address for a bounce to us.</summary>
    private static readonly string[] EnvelopeHeaders = ["Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To"];

    /// <summary>Reads a message from the bounce mailbox; never throws: what it cannot read is <see cref="ReportType.None"/>.</summary>
    public static BounceReport Parse(MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var report = FindReport(message.Body);
        var returned = report?.OfType<MessagePart>().FirstOrDefault()?.Message;
        var candidates = new List<string?>();
        foreach (var name in EnvelopeHeaders)
        {
            candidates.AddRange(message.Headers.Where(h => h.Field.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value));
        }

        candidates.Add(returned?.Headers[HeaderId.ReturnPath]);
        var type = ReportType.None;
        string? feedbackType = null;
        var recipients = new List<BounceRecipient>();
        if (report?.OfType<MessageDeliveryStatus>().FirstOrDefault() is { } status)
        {
            type = ReportType.DeliveryStatus;
            var groups = status.StatusGroups.ToList();
            // RFC 3464 §2.2: the first group holds the per-message fields; X-Postfix-Sender is the envelope sender.
            if (groups.Count > 0)
            {
                candidates.Add(AddressOf(groups[0]["X-Postfix-Sender"]));
            }

            recipients.AddRange(groups.Skip(1).Select(ReadRecipient).OfType<BounceRecipient>());
        }
        else if (report?.OfType<MessageFeedbackReport>().FirstOrDefault() is { } feedback)
        {
            type = ReportType.FeedbackReport;
            var fields = feedback.Fields;
            feedbackType = fields["Feedback-Type"]?.Trim().ToLowerInvariant();
            candidates.Add(AddressOf(fields["Original-Mail-From"]));
            // RFC 5965 §3.2: Original-Rcpt-To is the envelope recipient; RFC 6650 §5 asks that it be given.
            // Removal-Recipient (RFC 5965 §3.3) names the address to take off the list; the returned To is a last resort.
            var address = AddressOf(fields["Original-Rcpt-To"]) ?? AddressOf(fields["Removal-Recipient"]) ?? returned?.To.Mailboxes.FirstOrDefault()?.Address;
            var kind = feedbackType == "abuse" ? BounceKind.Complaint : BounceKind.Other;
            recipients.Add(new BounceRecipient(Normalize(address), kind, feedbackType, null, fields["Auth-Failure"]?.Trim()));
        }

        VerpAddress? reference = null;
        foreach (var candidate in candidates)
        {
            if (FindVerp(candidate) is { } verp)
            {
                reference = verp;
                break;
            }
        }

        var originalMessageId = returned?.MessageId;
        if (reference is null && VerpAddress.TryParseMessageId(originalMessageId, out var byMessageId))
        {
            reference = byMessageId;
        }

        return new BounceReport(type, message.MessageId, originalMessageId, reference, feedbackType, recipients);
    }

    /// <summary>The body when it is a report (RFC 6522), else a report inside it: some mail systems forward what they receive as an attachment.</summary>
    private static MultipartReport? FindReport(MimeEntity? entity) => entity switch
    {
        MultipartReport report => report,
        Multipart multipart => multipart.Select(FindReport).OfType<MultipartReport>().FirstOrDefault(),
        MessagePart { Message: { } inner } => FindReport(inner.Body),
        _ => null,
    };

    /// <summary>One per-recipient group (RFC 3464 §2.3); null for a success (delivered, relayed, expanded).</summary>
    private static BounceRecipient? ReadRecipient(HeaderList group)
    {
        var action = group["Action"]?.Trim().ToLowerInvariant();
        var diagnostic = group["Diagnostic-Code"] is { } code ? Unfold(code) : null;
        var status = StatusCode().Match(group["Status"] ?? "") is { Success: true } s ? s.Value
            : diagnostic is not null && StatusCode().Match(diagnostic) is { Success: true } d ? d.Value
            : null;
        // RFC 3464 §2.3.3: delivered, relayed and expanded report success; only failed and delayed are bounces.
        if (action is "delivered" or "relayed" or "expanded" || status?[0] == '2')
        {
            return null;
        }

        var address = Normalize(AddressOf(group["Original-Recipient"]) ?? AddressOf(group["Final-Recipient"]));
        return new BounceRecipient(address, Classify(action, status, diagnostic), status, action, diagnostic);
    }

    /// <summary>
    /// RFC 3463 §3.1: class 5 is a permanent failure, class 4 persistent transient. X.2.2 (mailbox full) "is useful
    /// for both permanent and persistent transient errors" (§3.3), so it counts as soft. "delayed" is transient by
    /// definition (RFC 3464 §2.3.3); a "failed" without a readable status takes the SMTP reply code of the
    /// Diagnostic-Code (RFC 5321 §4.2.1), and is permanent without one.
    /// </summary>
    private static BounceKind Classify(string? action, string? status, string? diagnostic)
    {
        if (action == "delayed")
        {
            return BounceKind.Soft;
        }

        if (status is not null)
        {
            return status[0] == '4' || status.EndsWith(".2.2", StringComparison.Ordinal) ? BounceKind.Soft : BounceKind.Hard;
        }

        return diagnostic is not null && ReplyCode().Match(diagnostic) is { Success: true } reply && reply.Value[0] == '4'
            ? BounceKind.Soft
            : BounceKind.Hard;
    }

    /// <summary>
    /// The address of a typed field (<c>rfc822; user@example.org</c>, RFC 3464 §2.1.2) or a bare one
    /// (<c>&lt;user@example.org&gt;</c>, RFC 5965 §3.2); null when there is none.
    /// </summary>
    private static string? AddressOf(string? field)
    {
        if (string.IsNullOrWhiteSpace(field))
        {
            return null;
        }

        var value = field.Trim();
        var semicolon = value.IndexOf(';');
        if (semicolon >= 0)
        {
            value = value[(semicolon + 1)..].Trim();
        }

        value = value.Trim('<', '>', ' ', '\t');
        return value.Contains('@') ? value : null;
    }

    private static VerpAddress? FindVerp(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (VerpAddress.TryParse(value, out var verp))
        {
            return verp;
        }

        if (InternetAddressList.TryParse(value, out var list))
        {
            foreach (var mailbox in list.Mailboxes)
            {
                if (VerpAddress.TryParse(mailbox.Address, out verp))
                {
                    return verp;
                }
            }
        }

        return null;
    }

    private static string? Normalize(string? address) => address?.Trim().ToLowerInvariant() is { Length: > 0 } a && a.Contains('@') ? a : null;

    private static string Unfold(string value) => Whitespace().Replace(value, " ").Trim();

    // RFC 3463 §2: class "." subject "." detail; class 2, 4 or 5, subject up to 3 digits, detail up to 3 digits.
    [GeneratedRegex(@"\b[245]\.[0-9]{1,3}\.[0-9]{1,3}\b", RegexOptions.CultureInvariant)]
    private static partial Regex StatusCode();

    // The first SMTP reply code of a Diagnostic-Code such as "smtp; 550 ..." or "X-LOCAL; 500 (err.nosuchuser)".
    [GeneratedRegex(@"(?<=;\s*)[245][0-9]{2}\b", RegexOptions.CultureInvariant)]
    private static partial Regex ReplyCode();

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Whitespace();
}
