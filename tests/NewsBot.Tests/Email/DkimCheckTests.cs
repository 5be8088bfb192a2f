using System.Text;
using System.Text.Json;

using MimeKit;

using NewsBot.Email;
using NewsBot.Tests.Posts;

namespace NewsBot.Tests.Email;

/// <summary>NewsBot's DKIM verification path against the corpus answers (DKIM_EXPECTED.json).</summary>
public sealed class DkimCheckTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [SkippableTheory]
    [InlineData("001.txt")]
    [InlineData("002.txt")]
    [InlineData("003.txt")]
    [InlineData("004.txt")]
    [InlineData("005.txt")]
    [InlineData("006.txt")]
    public async Task VerifyAsync_MailAuthVector_LastSignaturePassesAtTheVectorsTime(string file)
    {
        var expected = ReadExpected().GetProperty("mail-auth-dkim");
        var at = DateTimeOffset.FromUnixTimeSeconds(expected.GetProperty("verify_time_unix").GetInt64());
        Assert.True(expected.GetProperty("files").TryGetProperty(file, out _), $"{file} is not in DKIM_EXPECTED.json");
        var (records, message) = ReadVector(file);

        var results = await new DkimCheck(new DkimKeyRecords(records), new ManualTime(at)).VerifyAsync(message, Ct);

        Assert.NotEmpty(results);
        // mail-auth's verify.rs checks the result of the last DKIM-Signature it processes, the bottom one.
        var last = results[^1];
        Assert.True(last.Pass, $"{file}: d={last.Domain} s={last.Selector} failed: {last.Failure}");
    }

    [SkippableFact]
    public async Task VerifyAsync_Rfc8463Example_BothEd25519AndRsaSignaturesPass()
    {
        var (records, message) = ReadVector("001.txt");

        var results = await new DkimCheck(new DkimKeyRecords(records), TimeProvider.System).VerifyAsync(message, Ct);

        Assert.Equal(2, results.Count);
        Assert.Equal(("ed25519-sha256", "brisbane", true), (results[0].Algorithm, results[0].Selector, results[0].Pass));
        Assert.Equal(("rsa-sha256", "test", true), (results[1].Algorithm, results[1].Selector, results[1].Pass));
    }

    [SkippableTheory]
    [InlineData("gmail.msg")]
    [InlineData("related.msg")]
    [InlineData("multipart-no-end-boundary.msg")]
    public async Task VerifyAsync_MimeKitGmailMessage_FirstSignatureVerifiesWithGmailKey(string file)
    {
        var expected = ReadExpected().GetProperty("mimekit-dkim").GetProperty(file);
        Assert.Contains("true", expected.GetProperty("expect").GetString());
        var folder = TestPaths.RequireCorpus("email/mimekit-dkim");
        var keys = new DkimKeyRecords([new(DkimKeyRecords.RecordName("20120113", "gmail.com"), TxtRecordOf(Path.Combine(folder, "gmail.pub")))]);
        var message = await MimeMessage.LoadAsync(Path.Combine(folder, file));

        var results = await new DkimCheck(keys, TimeProvider.System).VerifyAsync(message, Ct);

        Assert.True(results[0].Pass, results[0].Failure);
        Assert.Equal(("gmail.com", "20120113"), (results[0].Domain, results[0].Selector));
    }

    [SkippableFact]
    public async Task VerifyAsync_MimeKitRfc8463Message_FirstAndLastSignaturesPassWithMailAuthRecords()
    {
        var (records, _) = ReadVector("001.txt");
        var message = await MimeMessage.LoadAsync(Path.Combine(TestPaths.RequireCorpus("email/mimekit-dkim"), "rfc8463-example.msg"));

        var results = await new DkimCheck(new DkimKeyRecords(records), TimeProvider.System).VerifyAsync(message, Ct);

        Assert.True(results[0].Pass, results[0].Failure);
        Assert.Equal("ed25519-sha256", results[0].Algorithm);
        Assert.True(results[^1].Pass, results[^1].Failure);
        Assert.Equal("rsa-sha256", results[^1].Algorithm);
    }

    [SkippableFact]
    public async Task VerifyAsync_SignedHeaderChanged_Fails()
    {
        var (records, message) = ReadVector("003.txt");
        message.Subject += " (edited)";

        var results = await new DkimCheck(new DkimKeyRecords(records), new ManualTime(DateTimeOffset.FromUnixTimeSeconds(1667843664))).VerifyAsync(message, Ct);

        Assert.All(results, r => Assert.False(r.Pass));
        Assert.Equal("signature or body hash does not match", results[^1].Failure);
    }

    [SkippableFact]
    public async Task VerifyAsync_AfterExpiry_FailsSayingSo()
    {
        // 005.txt: x=1667930064, a day after t=.
        var (records, message) = ReadVector("005.txt");

        var results = await new DkimCheck(new DkimKeyRecords(records), new ManualTime(DateTimeOffset.FromUnixTimeSeconds(1667930065))).VerifyAsync(message, Ct);

        var result = Assert.Single(results);
        Assert.False(result.Pass);
        Assert.Contains("expired", result.Failure);
    }

    [SkippableFact]
    public async Task VerifyAsync_NoKeyRecord_FailsNamingTheRecord()
    {
        var (_, message) = ReadVector("006.txt");

        var results = await new DkimCheck(new DkimKeyRecords([]), TimeProvider.System).VerifyAsync(message, Ct);

        var result = Assert.Single(results);
        Assert.False(result.Pass);
        Assert.Contains("dk2016._domainkey.github.com", result.Failure);
    }

    /// <summary>NNN.txt: one TXT record a line ("name value"), a blank line, then the message (LF; upstream makes it CRLF).</summary>
    private static (List<KeyValuePair<string, string>> Records, MimeMessage Message) ReadVector(string file)
    {
        var text = File.ReadAllText(Path.Combine(TestPaths.RequireCorpus("email/mail-auth-dkim"), file));
        var split = text.IndexOf("\n\n", StringComparison.Ordinal);
        Assert.True(split > 0, $"{file}: no blank line after the DNS records");
        var records = text[..split].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', 2))
            .Select(parts => new KeyValuePair<string, string>(parts[0], parts[1]))
            .ToList();
        var raw = text[(split + 2)..].Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal);
        return (records, MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(raw))));
    }

    /// <summary>A PEM public key as the TXT record that publishes it (RFC 6376 §3.6.1: p= is the base64 SubjectPublicKeyInfo).</summary>
    private static string TxtRecordOf(string pemFile)
    {
        var body = File.ReadAllLines(pemFile).Where(l => !l.StartsWith("-----", StringComparison.Ordinal));
        return "v=DKIM1; k=rsa; p=" + string.Concat(body.Select(l => l.Trim()));
    }

    private static JsonElement ReadExpected()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestPaths.RequireCorpus("email/DKIM_EXPECTED.json")));
        return document.RootElement.Clone();
    }
}
