using System.Globalization;

using MimeKit;
using MimeKit.Cryptography;

namespace NewsBot.Email;

/// <summary>The verdict on one DKIM-Signature header.</summary>
/// <param name="Failure">Why it failed; null when it passed.</param>
public sealed record DkimResult(string? Domain, string? Selector, string? Algorithm, bool Pass, string? Failure);

/// <summary>
/// Verifies every DKIM-Signature of a message (RFC 6376 §6) with MimeKit's <see cref="DkimVerifier"/>, keys from
/// <paramref name="keys"/>, and the expiry (<c>x=</c>, §3.5) against <paramref name="time"/>, which MimeKit leaves to
/// the caller. A signature that cannot be checked (no key, unknown algorithm, malformed tags) fails with the reason.
/// </summary>
public sealed class DkimCheck(IDkimPublicKeyLocator keys, TimeProvider time)
{
    /// <summary>One result per DKIM-Signature header, in header order (the newest signature first).</summary>
    public async Task<IReadOnlyList<DkimResult>> VerifyAsync(MimeMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var verifier = new DkimVerifier(keys);
        var results = new List<DkimResult>();
        foreach (var header in message.Headers.Where(h => h.Id == HeaderId.DkimSignature))
        {
            var tags = ParseTags(header.Value);
            tags.TryGetValue("d", out var domain);
            tags.TryGetValue("s", out var selector);
            tags.TryGetValue("a", out var algorithm);
            string? failure = null;
            if (tags.TryGetValue("x", out var expiry)
                && long.TryParse(expiry, NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
                && time.GetUtcNow().ToUnixTimeSeconds() > expires)
            {
                failure = $"signature expired at {DateTimeOffset.FromUnixTimeSeconds(expires):u} (x=)";
            }
            else
            {
                try
                {
                    if (!await verifier.VerifyAsync(message, header, ct))
                    {
                        failure = "signature or body hash does not match";
                    }
                }
                catch (Exception e) when (e is FormatException or NotSupportedException or KeyNotFoundException or ArgumentException or InvalidOperationException)
                {
                    failure = e.Message;
                }
            }

            results.Add(new DkimResult(domain, selector, algorithm, failure is null, failure));
        }

        return results;
    }

    /// <summary>RFC 6376 §3.2 tag-list: <c>tag=value</c> pairs separated by <c>;</c>, folding whitespace ignored.</summary>
    private static Dictionary<string, string> ParseTags(string value)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in value.Split(';'))
        {
            var eq = pair.IndexOf('=');
            if (eq > 0)
            {
                tags.TryAdd(pair[..eq].Trim(), string.Concat(pair[(eq + 1)..].Where(c => !char.IsWhiteSpace(c))));
            }
        }

        return tags;
    }
}
