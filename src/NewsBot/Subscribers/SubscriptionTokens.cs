using System.Globalization;
using System.Security.Cryptography;
using System.Text;

using Microsoft.Extensions.Options;

using NewsBot.Storage;

namespace NewsBot.Subscribers;

/// <summary>What a link token lets its holder do; a token of one purpose is refused for another.</summary>
public enum TokenPurpose { Confirm, Preferences, Unsubscribe }

/// <summary>A token that verified: whose it is, for what, and until when (null: it does not expire).</summary>
public sealed record SubscriptionToken(TokenPurpose Purpose, long SubscriberId, string Channel, DateTimeOffset? Expires);

/// <summary>Why a token was refused; the pages answer 400 with a page for each.</summary>
public enum TokenProblem { None, Malformed, Forged, WrongPurpose, Expired }

/// <summary>
/// The signed links of the subscription pages: <c>purpose.subscriber.channel.expires.mac</c>, where mac is
/// HMAC-SHA256 (RFC 2104) over everything before it with the secret in the database's <c>secrets</c> table,
/// truncated to 128 bits (RFC 2104 §5 allows truncation to no less than half the hash; NIST SP 800-107 §5.3.4).
/// The secret is 32 random bytes made on first use and shared by every instance on the database; losing it
/// invalidates every link in every mail already sent. Tokens hold no address, only the subscriber id, so a forwarded mail reveals
/// nothing beyond what its links do.
/// </summary>
public sealed class SubscriptionTokens
{
    /// <summary>
    /// A confirmation link is good for 48 hours: it proves a mailbox wanted the subscription now, and listmonk and
    /// Mailchimp let unconfirmed opt-ins lapse after a few days as well.
    /// </summary>
    public static readonly TimeSpan ConfirmLifetime = TimeSpan.FromHours(48);

    /// <summary>Where versions before the database-held secret kept it; adopted on first use so their links keep working.</summary>
    public const string LegacySecretFileName = "secret.key";

    private const string SecretName = "subscription-links";
    private const int SecretLength = 32;
    private const int MacLength = 16;

    private readonly Lazy<byte[]> _secret;
    private readonly TimeProvider _time;

    public SubscriptionTokens(Db db, IOptions<StorageOptions> storage, TimeProvider time)
        : this(db, Path.Combine(storage.Value.DataDirectory, LegacySecretFileName), time)
    {
    }

    public SubscriptionTokens(Db db, string legacySecretPath, TimeProvider time)
    {
        _time = time;
        // Create and Verify are synchronous (every link of every message), so the secret is read once per process
        // and then kept; ASP.NET Core and Hangfire workers have no synchronization context, so this one blocking
        // read cannot deadlock.
        _secret = new Lazy<byte[]>(() => LoadOrCreateSecretAsync(db, Path.GetFullPath(legacySecretPath)).GetAwaiter().GetResult());
    }

    /// <summary>
    /// A token for <paramref name="purpose"/>. Preferences and unsubscribe tokens do not expire: they sit in every
    /// mail, and a digest read months later must still unsubscribe (CAN-SPAM 15 U.S.C. §7704(a)(3) asks for at
    /// least 30 days; listmonk's and Mailchimp's links never expire). Rotating the secret revokes them all.
    /// </summary>
    public string Create(TokenPurpose purpose, long subscriberId, string channel)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(subscriberId);
        if (!Channels.All.Contains(channel))
        {
            throw new ArgumentException($"channel '{channel}' is not one of {string.Join(", ", Channels.All)}", nameof(channel));
        }

        var expires = purpose == TokenPurpose.Confirm ? _time.GetUtcNow().Add(ConfirmLifetime).ToUnixTimeSeconds() : 0;
        var payload = string.Create(CultureInfo.InvariantCulture, $"{PurposeCode(purpose)}.{subscriberId}.{channel}.{expires}");
        return payload + "." + Base64Url(Mac(payload));
    }

    /// <summary>
    /// Checks <paramref name="token"/> for <paramref name="purpose"/>. <paramref name="read"/> is what the token says
    /// whenever its signature holds, also when it is expired or for another purpose (so a page can say until when
    /// it worked); null when it is malformed or forged.
    /// </summary>
    public TokenProblem Verify(string? token, TokenPurpose purpose, out SubscriptionToken? read)
    {
        read = null;
        var parts = (token ?? "").Split('.');
        if (parts.Length != 5
            || parts[0].Length != 1
            || PurposeFromCode(parts[0][0]) is not { } found
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0
            || !Channels.All.Contains(parts[2])
            || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || !TryDecodeBase64Url(parts[4], out var mac) || mac.Length != MacLength
            // The last character of 16 bytes in base64 carries 4 unused bits: only the canonical spelling is one
            // token, or a token would have 16 valid spellings (RFC 4648 §3.5).
            || Base64Url(mac) != parts[4])
        {
            return TokenProblem.Malformed;
        }

        // A constant-time comparison: the time taken must not tell how many leading bytes of a guess were right.
        if (!CryptographicOperations.FixedTimeEquals(mac, Mac(token![..token!.LastIndexOf('.')])))
        {
            return TokenProblem.Forged;
        }

        read = new SubscriptionToken(found, id, parts[2], expires == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(expires));
        if (found != purpose)
        {
            return TokenProblem.WrongPurpose;
        }

        return read.Expires is { } at && at <= _time.GetUtcNow() ? TokenProblem.Expired : TokenProblem.None;
    }

    /// <summary>A new random CSRF cookie value: 128 bits, base64url.</summary>
    public static string CreateCookie() => Base64Url(RandomNumberGenerator.GetBytes(16));

    /// <summary>
    /// The CSRF field for a form shown to the browser holding <paramref name="cookie"/> (OWASP's signed double-submit
    /// cookie): only this server can compute it, and only for that cookie.
    /// </summary>
    public string SignCookie(string cookie) => Base64Url(Mac("form." + cookie));

    public bool VerifyCookie(string? cookie, string? field) =>
        !string.IsNullOrEmpty(cookie) && TryDecodeBase64Url(field ?? "", out var mac) && mac.Length == MacLength
        && CryptographicOperations.FixedTimeEquals(mac, Mac("form." + cookie));

    private byte[] Mac(string payload) => HMACSHA256.HashData(_secret.Value, Encoding.UTF8.GetBytes(payload))[..MacLength];

    private static char PurposeCode(TokenPurpose purpose) => purpose switch
    {
        TokenPurpose.Confirm => 'c',
        TokenPurpose.Preferences => 'p',
        TokenPurpose.Unsubscribe => 'u',
        _ => throw new ArgumentOutOfRangeException(nameof(purpose), purpose, "unknown token purpose"),
    };

    private static TokenPurpose? PurposeFromCode(char code) => code switch
    {
        'c' => TokenPurpose.Confirm,
        'p' => TokenPurpose.Preferences,
        'u' => TokenPurpose.Unsubscribe,
        _ => null,
    };

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryDecodeBase64Url(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length == 0 || text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            return false;
        }

        var padded = text.Replace('-', '+').Replace('_', '/') + new string('=', (4 - (text.Length % 4)) % 4);
        try
        {
            bytes = Convert.FromBase64String(padded);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// Reads the secret, or makes it: the first process to get here inserts it (<c>ON CONFLICT DO NOTHING</c>) and
    /// every process, this one included, reads back the row that won, so instances starting together agree on one.
    /// The value inserted is the legacy <c>secret.key</c> when an earlier version made one, else 32 random bytes.
    /// </summary>
    private static async Task<byte[]> LoadOrCreateSecretAsync(Db db, string legacyPath)
    {
        var candidate = File.Exists(legacyPath) ? File.ReadAllBytes(legacyPath) : RandomNumberGenerator.GetBytes(SecretLength);
        if (candidate.Length != SecretLength)
        {
            throw new InvalidOperationException(
                $"The link-signing secret '{legacyPath}' holds {candidate.Length} bytes, not {SecretLength}: restore it from a backup, "
                + "or delete it to make a new one (every link in mails already sent then stops working).");
        }

        await using var connection = await db.OpenAsync(CancellationToken.None);
        await using (var insert = connection.CreateCommand(
            "INSERT INTO secrets (name, value, created_at) VALUES (@name, @value, @now) ON CONFLICT (name) DO NOTHING"))
        {
            insert.AddParameter("name", SecretName);
            insert.AddParameter("value", candidate);
            insert.AddParameter("now", DateTimeOffset.UtcNow);
            await insert.ExecuteNonQueryAsync(CancellationToken.None);
        }

        await using var select = connection.CreateCommand("SELECT value FROM secrets WHERE name = @name");
        select.AddParameter("name", SecretName);
        var secret = (byte[])(await select.ExecuteScalarAsync(CancellationToken.None))!;
        if (secret.Length != SecretLength)
        {
            throw new InvalidOperationException(
                $"The link-signing secret '{SecretName}' in the {db}'s secrets table holds {secret.Length} bytes, not {SecretLength}: "
                + "restore it from a backup, or delete the row to make a new one (every link in mails already sent then stops working).");
        }

        return secret;
    }
}
