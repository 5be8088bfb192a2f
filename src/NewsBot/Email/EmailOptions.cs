using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using MimeKit;

namespace NewsBot.Email;

/// <summary>How the SMTP connection is secured (MailKit <c>SecureSocketOptions</c>).</summary>
public enum SmtpSecurity
{
    /// <summary>Plain text: only for a relay on loopback.</summary>
    None,

    /// <summary>RFC 3207: plain connect, then STARTTLS, refused when the server does not offer it (port 587).</summary>
    StartTls,

    /// <summary>RFC 8314 §3.3: TLS from the first byte (port 465).</summary>
    Tls,

    /// <summary>TLS on port 465, STARTTLS when the server offers it on any other port.</summary>
    Auto,
}

/// <summary>The <c>NewsBot:Email</c> section. With no <see cref="SmtpOptions.Host"/> email goes to the outbox folder.</summary>
public sealed class EmailOptions
{
    public const string Section = "NewsBot:Email";

    public const string DefaultFrom = "NewsBot <newsbot@localhost>";

    /// <summary>The From header, a mailbox such as <c>News Desk &lt;news@example.org&gt;</c>.</summary>
    public string From { get; set; } = DefaultFrom;

    /// <summary>Where replies go (Reply-To); none when empty.</summary>
    public string? ReplyTo { get; set; }

    /// <summary>RFC 2919 list identifier, <c>news.example.org</c>; the From domain prefixed with <c>newsbot.</c> when empty.</summary>
    public string? ListId { get; set; }

    /// <summary>An address whose mail unsubscribes (the <c>mailto:</c> of List-Unsubscribe); only the https URL when empty.</summary>
    public string? UnsubscribeMailto { get; set; }

    /// <summary>
    /// This many permanent failures in a row (every message refused, as when the relay blocks the account) pause the
    /// send until an admin retries it; 0 never pauses.
    /// </summary>
    public int PermanentFailurePause { get; set; } = 50;

    public SmtpOptions Smtp { get; set; } = new();

    public DkimOptions Dkim { get; set; } = new();

    public VerpOptions Verp { get; set; } = new();

    public bool SmtpEnabled => !string.IsNullOrWhiteSpace(Smtp.Host);

    /// <summary>Every failure names its key.</summary>
    public IEnumerable<string> Validate()
    {
        if (!MailboxAddress.TryParse(From, out var from) || from.Domain.Length == 0)
        {
            yield return $"{Section}:From '{From}' is not a mailbox such as 'NewsBot <newsbot@example.org>'";
        }

        if (!string.IsNullOrWhiteSpace(ReplyTo) && !MailboxAddress.TryParse(ReplyTo, out _))
        {
            yield return $"{Section}:ReplyTo '{ReplyTo}' is not a mailbox such as 'editor@example.org'";
        }

        // RFC 2919 §2: list-id is a dot-atom-text.
        if (ListId is { } listId && !string.IsNullOrWhiteSpace(listId) && !IsDotAtom(listId))
        {
            yield return $"{Section}:ListId '{ListId}' is not a dot-atom such as 'news.example.org' (letters, digits, '-', '.')";
        }

        if (!string.IsNullOrWhiteSpace(UnsubscribeMailto)
            && (!MailboxAddress.TryParse(UnsubscribeMailto, out var mailto) || !string.IsNullOrEmpty(mailto.Name) || mailto.Domain.Length == 0))
        {
            yield return $"{Section}:UnsubscribeMailto '{UnsubscribeMailto}' is not a bare address such as 'unsubscribe@example.org'";
        }

        if (PermanentFailurePause is < 0 or > 100_000)
        {
            yield return $"{Section}:PermanentFailurePause {PermanentFailurePause} must be between 0 (never pause) and 100000";
        }

        if (!SmtpEnabled)
        {
            yield break;
        }

        foreach (var error in Smtp.Validate().Concat(Dkim.Validate()).Concat(Verp.Validate()))
        {
            yield return error;
        }
    }

    internal static bool IsDotAtom(string value) =>
        value.Length <= 255 && !value.StartsWith('.') && !value.EndsWith('.') && !value.Contains("..", StringComparison.Ordinal)
        && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_');
}

/// <summary><c>NewsBot:Email:Smtp</c>: the relay every message goes through.</summary>
public sealed class SmtpOptions
{
    private const string Key = EmailOptions.Section + ":Smtp";

    public string? Host { get; set; }

    /// <summary>RFC 6409 submission port.</summary>
    public int Port { get; set; } = 587;

    public SmtpSecurity Security { get; set; } = SmtpSecurity.Auto;

    /// <summary>AUTH user; no AUTH when empty.</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Connections kept open and used at once; relays limit concurrent connections per account (SES: none, Gmail: 10 or so).</summary>
    public int PoolSize { get; set; } = 4;

    /// <summary>One SMTP command or the whole DATA transfer.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The relay's sending quota, kept by the channel and used for a send's ETA (SES starts accounts at 14 a second;
    /// a relay of one's own takes thousands). 0: not paced, and the ETA assumes <see cref="UnpacedEstimatePerConnection"/>
    /// a second per connection.
    /// </summary>
    public double MessagesPerSecond { get; set; }

    /// <summary>
    /// A PEM certificate trusted for the relay besides the system's roots: the relay's own self-signed one, or the
    /// private CA that issued it. The host name must still match.
    /// </summary>
    public string? TrustedCertificatePath { get; set; }

    /// <summary>A remote relay answers a message in about 40 ms over the internet, so one connection sends about 25 a second.</summary>
    public const double UnpacedEstimatePerConnection = 25;

    internal IEnumerable<string> Validate()
    {
        if (Uri.CheckHostName(Host) == UriHostNameType.Unknown)
        {
            yield return $"{Key}:Host '{Host}' is not a host name or IP address such as 'email-smtp.eu-west-1.amazonaws.com'";
        }

        if (Port is < 1 or > 65535)
        {
            yield return $"{Key}:Port {Port} must be between 1 and 65535 (587 for STARTTLS, 465 for TLS)";
        }

        if (!Enum.IsDefined(Security))
        {
            yield return $"{Key}:Security '{Security}' must be None, StartTls, Tls or Auto";
        }

        if (string.IsNullOrEmpty(Username) != string.IsNullOrEmpty(Password))
        {
            yield return $"{Key}:Username and {Key}:Password go together: set both for AUTH, or neither";
        }

        if (PoolSize is < 1 or > 100)
        {
            yield return $"{Key}:PoolSize {PoolSize} must be between 1 and 100";
        }

        if (!(MessagesPerSecond >= 0) || MessagesPerSecond > 100_000)
        {
            yield return $"{Key}:MessagesPerSecond {MessagesPerSecond} must be between 0 (not paced) and 100000";
        }

        if (Timeout < TimeSpan.FromSeconds(1) || Timeout > TimeSpan.FromMinutes(10))
        {
            yield return $"{Key}:Timeout {Timeout} must be between 00:00:01 and 00:10:00";
        }

        if (!string.IsNullOrWhiteSpace(TrustedCertificatePath) && LoadTrustedCertificate() is { Problem: { } problem })
        {
            yield return $"{Key}:TrustedCertificatePath '{TrustedCertificatePath}' {problem}";
        }
    }

    /// <summary>The certificate of <see cref="TrustedCertificatePath"/>, or why it cannot be read.</summary>
    internal (X509Certificate2? Certificate, string? Problem) LoadTrustedCertificate()
    {
        try
        {
            return (X509Certificate2.CreateFromPem(File.ReadAllText(TrustedCertificatePath!)), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            return (null, $"is not a readable PEM certificate: {e.Message}");
        }
    }
}

/// <summary><c>NewsBot:Email:Dkim</c>: signing is on when <see cref="Domain"/> is set.</summary>
public sealed class DkimOptions
{
    public const string RsaSha256 = "rsa-sha256";

    public const string Ed25519Sha256 = "ed25519-sha256";

    private const string Key = EmailOptions.Section + ":Dkim";

    /// <summary>The d= domain; the From domain or a parent of it for DMARC alignment (RFC 7489 §3.1.1).</summary>
    public string? Domain { get; set; }

    /// <summary>The s= selector: the public key is the TXT record <c>&lt;selector&gt;._domainkey.&lt;domain&gt;</c>.</summary>
    public string? Selector { get; set; }

    /// <summary>A PEM private key file (RSA of 1024 bits or more, or Ed25519).</summary>
    public string? PrivateKeyPath { get; set; }

    /// <summary>RFC 6376 <c>rsa-sha256</c> or RFC 8463 <c>ed25519-sha256</c>.</summary>
    public string Algorithm { get; set; } = RsaSha256;

    public bool Enabled => !string.IsNullOrWhiteSpace(Domain);

    internal IEnumerable<string> Validate()
    {
        if (!Enabled)
        {
            yield break;
        }

        if (!EmailOptions.IsDotAtom(Domain!))
        {
            yield return $"{Key}:Domain '{Domain}' is not a domain such as 'example.org'";
        }

        if (Selector is not { } selector || string.IsNullOrWhiteSpace(selector) || !EmailOptions.IsDotAtom(selector))
        {
            yield return $"{Key}:Selector '{Selector}' is not a selector such as 'newsbot' (letters, digits, '-', '.')";
        }

        if (string.IsNullOrWhiteSpace(PrivateKeyPath) || !File.Exists(PrivateKeyPath))
        {
            yield return $"{Key}:PrivateKeyPath '{PrivateKeyPath}' is not a file: give the PEM private key";
        }

        if (Algorithm is not (RsaSha256 or Ed25519Sha256))
        {
            yield return $"{Key}:Algorithm '{Algorithm}' must be '{RsaSha256}' or '{Ed25519Sha256}'";
        }
    }
}

/// <summary>
/// <c>NewsBot:Email:Verp</c>: each message's envelope sender (MAIL FROM, the Return-Path) names its ledger row,
/// <c>bounce+send.12.sub.34.email@bounces.example.org</c>, so a bounce says which delivery failed.
/// </summary>
public sealed class VerpOptions
{
    private const string Key = EmailOptions.Section + ":Verp";

    public bool Enabled { get; set; }

    /// <summary>The local part before the <c>+</c>.</summary>
    public string LocalPart { get; set; } = "bounce";

    /// <summary>The domain whose mailbox receives the bounces; the From domain when empty.</summary>
    public string? Domain { get; set; }

    internal IEnumerable<string> Validate()
    {
        if (!Enabled)
        {
            yield break;
        }

        if (string.IsNullOrWhiteSpace(LocalPart) || LocalPart.Contains('+', StringComparison.Ordinal) || !EmailOptions.IsDotAtom(LocalPart))
        {
            yield return $"{Key}:LocalPart '{LocalPart}' is not a local part such as 'bounce' (letters, digits, '-', '.', no '+')";
        }

        if (Domain is { } domain && !string.IsNullOrWhiteSpace(domain) && !EmailOptions.IsDotAtom(domain))
        {
            yield return $"{Key}:Domain '{Domain}' is not a domain such as 'bounces.example.org'";
        }
    }
}
