using System.Net;

namespace NewsBot;

/// <summary>The <c>NewsBot:Web</c> section: the service behind a reverse proxy.</summary>
public sealed class WebOptions
{
    public const string Section = "NewsBot:Web";

    /// <summary>
    /// Addresses (<c>10.0.0.5</c>) or networks (<c>10.0.0.0/24</c>) of the reverse proxies whose
    /// <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed; unset means loopback only. A header from
    /// any other source is ignored: anyone can send one, and the rate limit and the dashboard's local-only check
    /// go by the client address.
    /// </summary>
    public string[]? KnownProxies { get; set; }

    public IReadOnlyList<string> TrustedProxies => KnownProxies ?? ["127.0.0.1", "::1"];

    public IEnumerable<string> Validate()
    {
        for (var i = 0; i < TrustedProxies.Count; i++)
        {
            var proxy = TrustedProxies[i];
            if (!IPAddress.TryParse(proxy, out _) && !IPNetwork.TryParse(proxy, out _))
            {
                yield return $"{Section}:KnownProxies:{i} '{proxy}' is not an IP address or a network such as 10.0.0.0/24";
            }
        }
    }
}
