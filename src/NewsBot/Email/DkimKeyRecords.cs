using MimeKit.Cryptography;

using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;

namespace NewsBot.Email;

/// <summary>
/// DKIM public keys from TXT records held in memory, by name (<c>selector._domainkey.example.org</c>, RFC 6376
/// §3.6.2.1): NewsBot's own published record, to check what it signs, or test vectors. A name with no record is
/// "no key for signature" (RFC 6376 §6.1.2 PERMFAIL).
/// </summary>
public sealed class DkimKeyRecords : DkimPublicKeyLocatorBase
{
    private readonly Dictionary<string, string> _records = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="records">Record name to TXT value (<c>v=DKIM1; k=rsa; p=MIGf...</c>).</param>
    public DkimKeyRecords(IEnumerable<KeyValuePair<string, string>> records)
    {
        foreach (var (name, value) in records)
        {
            _records[name.Trim().TrimEnd('.')] = value;
        }
    }

    public static string RecordName(string selector, string domain) => $"{selector}._domainkey.{domain}";

    public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default)
    {
        // RFC 6376 §3.5 q=: "dns/txt" is the only method defined, and the default.
        if (!methods.Split(':').Any(m => m.Trim().Equals("dns/txt", StringComparison.OrdinalIgnoreCase)))
        {
            throw new NotSupportedException($"DKIM key query method '{methods}' is not dns/txt");
        }

        var name = RecordName(selector, domain);
        if (!_records.TryGetValue(name, out var record))
        {
            throw new KeyNotFoundException($"no DKIM key record {name}");
        }

        try
        {
            return GetPublicKey(record);
        }
        catch (ArgumentException) when (RsaPublicKeyOf(record) is { } rsa)
        {
            return rsa;
        }
    }

    /// <summary>
    /// RFC 6376 §3.3.1 describes the RSA key as an RSAPublicKey (RFC 3447 A.1.1); most publishers wrap it in a
    /// SubjectPublicKeyInfo, which is all MimeKit reads, but verifiers accept both (the RFC 6376-style vector does).
    /// </summary>
    private static RsaKeyParameters? RsaPublicKeyOf(string record)
    {
        var tags = record.Split(';').Select(t => t.Split('=', 2)).Where(t => t.Length == 2).ToDictionary(t => t[0].Trim(), t => t[1].Trim());
        if ((tags.TryGetValue("k", out var k) && k != "rsa") || !tags.TryGetValue("p", out var p))
        {
            return null;
        }

        try
        {
            var key = RsaPublicKeyStructure.GetInstance(Asn1Object.FromByteArray(Convert.FromBase64String(string.Concat(p.Where(c => !char.IsWhiteSpace(c))))));
            return new RsaKeyParameters(false, key.Modulus, key.PublicExponent);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IOException or InvalidCastException)
        {
            return null;
        }
    }

    public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
        Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
}
