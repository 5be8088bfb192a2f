using System.Security.Cryptography;

using MimeKit;
using MimeKit.Cryptography;

using NewsBot.Delivery;

namespace NewsBot.Email;

/// <summary>
/// Turns an <see cref="OutgoingMessage"/> into the MIME message both the SMTP channel and the outbox write: the
/// headers bulk senders need (Gmail's and Yahoo's 2024 rules: List-Unsubscribe with one-click, DKIM), the text and
/// HTML parts, and the envelope sender (VERP) the SMTP channel uses.
/// </summary>
public sealed class EmailComposer : IDisposable
{
    /// <summary>RFC 8058 §3.1: the exact List-Unsubscribe-Post value.</summary>
    public const string OneClick = "List-Unsubscribe=One-Click";

    /// <summary>
    /// The headers the DKIM signature covers. RFC 8058 §4 asks for List-Unsubscribe and List-Unsubscribe-Post in
    /// h=, so a relay cannot add a one-click URL of its own; RFC 6376 §5.4.1 recommends From, Subject, Date, To,
    /// Message-ID and the MIME headers.
    /// </summary>
    public static readonly IReadOnlyList<string> SignedHeaders =
    [
        "From", "Reply-To", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
        "MIME-Version", "Content-Type",
    ];

    private const string PlaceholderDate = "Thu, 01 Jan 1970 00:00:00 +0000";
    private const string PlaceholderMessageId = "<placeholder@newsbot.invalid>";

    private readonly MailboxAddress _from;
    private readonly Header _fromHeader;
    private readonly Header? _replyToHeader;
    private readonly Header _listIdHeader;
    private readonly string? _unsubscribeMailto;
    private readonly DkimSigner? _signer;
    private readonly VerpOptions _verp;
    private readonly string _verpDomain;
    private readonly TimeProvider _time;

    /// <exception cref="ArgumentException">A setting is not valid (the options validator reports it first at start).</exception>
    public EmailComposer(EmailOptions options, TimeProvider time)
    {
        var errors = options.Validate().ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(options));
        }

        _from = MailboxAddress.Parse(options.From);
        var listId = string.IsNullOrWhiteSpace(options.ListId) ? "newsbot." + _from.Domain : options.ListId.Trim();
        // The headers every message of this sender shares are encoded once, by MimeKit, and cloned per message.
        using var shared = new MimeMessage();
        shared.From.Add(new MailboxAddress(_from.Name, _from.Address));
        if (!string.IsNullOrWhiteSpace(options.ReplyTo))
        {
            shared.ReplyTo.Add(MailboxAddress.Parse(options.ReplyTo));
        }

        // RFC 2919 §2.
        shared.Headers.Add(HeaderId.ListId, $"<{listId}>");
        _fromHeader = shared.Headers[shared.Headers.IndexOf(HeaderId.From)];
        _replyToHeader = shared.Headers.IndexOf(HeaderId.ReplyTo) is var replyTo and >= 0 ? shared.Headers[replyTo] : null;
        _listIdHeader = shared.Headers[shared.Headers.IndexOf(HeaderId.ListId)];
        _unsubscribeMailto = string.IsNullOrWhiteSpace(options.UnsubscribeMailto) ? null : options.UnsubscribeMailto.Trim();
        _verp = options.Verp;
        _verpDomain = options.Verp.Domain is { } domain && !string.IsNullOrWhiteSpace(domain) ? domain.Trim() : _from.Domain;
        _time = time;
        if (options.Dkim.Enabled)
        {
            var dkim = options.Dkim;
            var algorithm = dkim.Algorithm == DkimOptions.Ed25519Sha256 ? DkimSignatureAlgorithm.Ed25519Sha256 : DkimSignatureAlgorithm.RsaSha256;
            try
            {
                _signer = algorithm == DkimSignatureAlgorithm.RsaSha256
                    ? new RsaDkimSigner(dkim.PrivateKeyPath!, dkim.Domain!, dkim.Selector!, time)
                    : new DkimSigner(dkim.PrivateKeyPath!, dkim.Domain!, dkim.Selector!, algorithm);
                // RFC 6376 §3.4: relaxed survives the re-folding and whitespace changes relays make.
                _signer.HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
                _signer.BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
            }
            catch (Exception e) when (e is FormatException or IOException or NotSupportedException or ArgumentException or InvalidCastException or CryptographicException)
            {
                throw new ArgumentException(
                    $"{EmailOptions.Section}:Dkim:PrivateKeyPath '{dkim.PrivateKeyPath}' is not a PEM {dkim.Algorithm} private key: {e.Message}", nameof(options), e);
            }
        }
    }

    public void Dispose() => (_signer as IDisposable)?.Dispose();

    /// <summary>A bare address (no display name) with a domain, as the ledger stores it; null otherwise.</summary>
    public static MailboxAddress? ParseRecipient(string address) =>
        MailboxAddress.TryParse(address, out var mailbox) && string.IsNullOrEmpty(mailbox.Name) && mailbox.Domain.Length > 0 && mailbox.LocalPart.Length > 0
            ? mailbox
            : null;

    /// <summary>
    /// The envelope sender for a message: with VERP, <c>bounce+12-34@domain</c> (<see cref="VerpAddress"/>: send 12,
    /// subscriber 34, what the bounce mailbox reads back), else the From address. A key that names no email ledger
    /// row (a test send) uses the plain bounce address.
    /// </summary>
    public MailboxAddress EnvelopeSender(string idempotencyKey)
    {
        if (!_verp.Enabled)
        {
            return new MailboxAddress("", _from.Address);
        }

        var returnPath = $"{_verp.LocalPart}@{_verpDomain}";
        return new MailboxAddress("", VerpAddress.TryParseKey(idempotencyKey, out var verp) ? verp.Format(returnPath) : returnPath);
    }

    /// <summary>The message for one recipient, DKIM-signed when signing is configured.</summary>
    public MimeMessage Compose(OutgoingMessage message, MailboxAddress to)
    {
        // The headers MimeMessage() starts with, in its order (From, Date, Subject, Message-Id), as placeholders set
        // below: that constructor stamps a local Date and a Message-ID from the host's DNS name, work thrown away
        // here that was a sixth of composing a message. Header clones, not shared address objects: an address list
        // subscribes to its addresses' Changed events, so a shared instance would keep every message composed alive.
        var email = new MimeMessage(
            _fromHeader.Clone(), new Header(HeaderId.Date, PlaceholderDate), new Header(HeaderId.Subject, ""), new Header(HeaderId.MessageId, PlaceholderMessageId));
        if (_replyToHeader is not null)
        {
            email.Headers.Add(_replyToHeader.Clone());
        }

        email.To.Add(to);
        // MimeKit folds and RFC 2047-encodes the subject, so a CR or LF in a feed's title cannot start a header of its
        // own; they are made spaces first so the subject reads as one line.
        email.Subject = message.Subject.ReplaceLineEndings(" ");
        email.Date = _time.GetUtcNow();
        // RFC 5322 §3.6.4: msg-id is dot-atom-text "@" domain; the key's ':' is not atext, so it becomes '.'.
        email.MessageId = message.IdempotencyKey.Replace(':', '.') + "@" + _from.Domain;
        email.Headers.Add(_listIdHeader.Clone());
        AddUnsubscribeHeaders(email, message.Links?.UnsubscribeUrl);
        // Multipart/alternative (RFC 2046 §5.1.4) with the text part first and HTML, the preferred, last, as
        // BodyBuilder makes it, of parts that check their own transfer encoding (BodyTextPart).
        email.Body = new MultipartAlternative { new BodyTextPart("plain", message.TextBody ?? ""), new BodyTextPart("html", message.Body) };
        if (_signer is not null)
        {
            // 7-bit transfer encodings before signing: a hop without 8BITMIME (RFC 6152) would re-encode 8-bit parts
            // and break the body hash. Unsigned mail is left to MailKit, which sends 8bit where the relay takes it:
            // quoted-printable costs about half the send rate.
            email.Prepare(EncodingConstraint.SevenBit);
            _signer.Sign(email, SignedHeaders.Where(h => email.Headers.Contains(h)).ToList());
        }

        return email;
    }

    /// <summary>
    /// RFC 2369 §3.2 List-Unsubscribe with the https URL, then the mailto; RFC 8058 §3.1 List-Unsubscribe-Post only
    /// when there is an https URL (one-click needs HTTPS).
    /// </summary>
    private void AddUnsubscribeHeaders(MimeMessage email, string? unsubscribeUrl)
    {
        var uris = new List<string>(2);
        var oneClick = false;
        if (unsubscribeUrl is not null && Uri.TryCreate(unsubscribeUrl, UriKind.Absolute, out var url) && url.Scheme is "https" or "http")
        {
            // AbsoluteUri percent-encodes anything that could end the <...> (spaces, '>').
            uris.Add($"<{url.AbsoluteUri}>");
            oneClick = url.Scheme == "https";
        }

        if (_unsubscribeMailto is not null)
        {
            uris.Add($"<mailto:{_unsubscribeMailto}?subject=unsubscribe>");
        }

        if (uris.Count == 0)
        {
            return;
        }

        email.Headers.Add(HeaderId.ListUnsubscribe, string.Join(", ", uris));
        if (oneClick)
        {
            email.Headers.Add(HeaderId.ListUnsubscribePost, OneClick);
        }
    }
}
