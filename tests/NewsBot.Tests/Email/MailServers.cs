using System.Globalization;

using MailKit;
using MailKit.Net.Imap;
using MailKit.Net.Smtp;
using MailKit.Search;
using MailKit.Security;

using MimeKit;

namespace NewsBot.Tests.Email;

/// <summary>
/// Debian's postfix and dovecot as <c>.ci/mail-servers start</c> leaves them on loopback: SMTP without TLS or
/// authentication for local clients, IMAP with plain passwords, Maildirs for <see cref="Reader"/> and
/// <see cref="Bounces"/> (which also takes <c>bounces+anything@</c>), and a domain postfix accepts and then bounces
/// with 5.1.1, writing a real DSN. Tests skip when the servers are not announced, and fail under <c>CI=true</c>.
/// </summary>
public sealed class MailServers
{
    private MailServers(string smtp, string imap, string domain, string password, string bounceDomain)
    {
        (SmtpHost, SmtpPort) = Split(smtp, "NEWSBOT_TEST_SMTP");
        (ImapHost, ImapPort) = Split(imap, "NEWSBOT_TEST_IMAP");
        Domain = domain;
        Password = password;
        UndeliverableDomain = bounceDomain;
    }

    public string SmtpHost { get; }

    public int SmtpPort { get; }

    public string ImapHost { get; }

    public int ImapPort { get; }

    public string Domain { get; }

    /// <summary>The IMAP password of both mailboxes.</summary>
    public string Password { get; }

    /// <summary>Mail to any address here is accepted, then bounced by postfix's error transport (5.1.1).</summary>
    public string UndeliverableDomain { get; }

    public string Reader => "reader@" + Domain;

    public string Bounces => "bounces@" + Domain;

    /// <summary>The servers from the environment <c>.ci/mail-servers start</c> prints, or a skip (a failure under CI).</summary>
    public static MailServers Require()
    {
        var names = new[] { "NEWSBOT_TEST_SMTP", "NEWSBOT_TEST_IMAP", "NEWSBOT_TEST_MAIL_DOMAIN", "NEWSBOT_TEST_MAIL_PASSWORD", "NEWSBOT_TEST_BOUNCE_DOMAIN" };
        var values = names.Select(Environment.GetEnvironmentVariable).ToArray();
        var missing = names.Where((_, i) => string.IsNullOrWhiteSpace(values[i])).ToList();
        if (missing.Count > 0 && TestPaths.IsCi)
        {
            throw new InvalidOperationException($"CI=true but the mail servers are not announced ({string.Join(", ", missing)} unset): .ci/run must eval `.ci/mail-servers start`");
        }

        Skip.If(missing.Count > 0, $"postfix and dovecot not running: {string.Join(", ", missing)} unset (eval \"$(.ci/mail-servers start)\")");
        return new MailServers(values[0]!, values[1]!, values[2]!, values[3]!, values[4]!);
    }

    public async Task<SmtpClient> ConnectSmtpAsync(CancellationToken ct)
    {
        var client = new SmtpClient { Timeout = 30_000 };
        await client.ConnectAsync(SmtpHost, SmtpPort, SecureSocketOptions.None, ct);
        return client;
    }

    public async Task<ImapClient> ConnectImapAsync(string user, CancellationToken ct)
    {
        var client = new ImapClient { Timeout = 30_000 };
        await client.ConnectAsync(ImapHost, ImapPort, SecureSocketOptions.None, ct);
        await client.AuthenticateAsync(user, Password, ct);
        return client;
    }

    /// <summary>
    /// The first message of <paramref name="user"/>'s INBOX matching <paramref name="query"/>, read without setting
    /// \Seen, waiting for delivery up to <paramref name="timeout"/>.
    /// </summary>
    public async Task<MimeMessage> WaitForMessageAsync(string user, SearchQuery query, TimeSpan timeout, CancellationToken ct)
    {
        using var client = await ConnectImapAsync(user, ct);
        await client.Inbox.OpenAsync(FolderAccess.ReadOnly, ct);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var found = await client.Inbox.SearchAsync(query, ct);
            if (found.Count > 0)
            {
                var message = await client.Inbox.GetMessageAsync(found[0], ct);
                await client.DisconnectAsync(quit: true, ct);
                return message;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no message matching {query} reached {user} within {timeout.TotalSeconds:0} s; see /var/log/newsbot-mail/postfix.log");
            }

            await Task.Delay(250, ct);
            // A read-only folder is not told of new mail until asked again.
            await client.NoOpAsync(ct);
        }
    }

    /// <summary>Settings that point the bounce job at <see cref="Bounces"/>.</summary>
    public (string Key, string? Value)[] BounceMailboxSettings() =>
    [
        ("NewsBot:Email:Bounces:Enabled", "true"),
        ("NewsBot:Email:Bounces:Host", ImapHost),
        ("NewsBot:Email:Bounces:Port", ImapPort.ToString(CultureInfo.InvariantCulture)),
        ("NewsBot:Email:Bounces:Security", nameof(SecureSocketOptions.None)),
        ("NewsBot:Email:Bounces:Username", Bounces),
        ("NewsBot:Email:Bounces:Password", Password),
    ];

    private static (string Host, int Port) Split(string endpoint, string name)
    {
        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw new InvalidOperationException($"{name}='{endpoint}' is not host:port (e.g. 127.0.0.1:25)");
        }

        return (endpoint[..colon], port);
    }
}
