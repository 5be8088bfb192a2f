using MimeKit;
using MimeKit.Cryptography;

using NewsBot.Email;
using NewsBot.Tests.Posts;

namespace NewsBot.Tests.Email;

/// <summary>The OpenSSL-backed rsa-sha256 signer against MimeKit's own, with the test suite's 2048-bit key.</summary>
public sealed class RsaDkimSignerTests
{
    private static readonly DateTimeOffset SignedAt = new(2026, 12, 7, 17, 0, 0, TimeSpan.Zero);
    private static readonly string[] Headers = ["From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"];

    [Theory]
    [InlineData(DkimCanonicalizationAlgorithm.Relaxed)]
    [InlineData(DkimCanonicalizationAlgorithm.Simple)]
    public void TheSignatureHeader_IsByteForByteMimeKits(DkimCanonicalizationAlgorithm canonicalization)
    {
        using var ours = new RsaDkimSigner(TestPaths.Fixture("email/dkim-rsa.pem"), "news.example", "s1", new ManualTime(SignedAt))
        {
            HeaderCanonicalizationAlgorithm = canonicalization,
            BodyCanonicalizationAlgorithm = canonicalization,
        };
        var theirs = new FixedTimeDkimSigner(TestPaths.Fixture("email/dkim-rsa.pem"))
        {
            HeaderCanonicalizationAlgorithm = canonicalization,
            BodyCanonicalizationAlgorithm = canonicalization,
        };
        using var signedByUs = Sample();
        using var signedByMimeKit = Sample();

        ours.Sign(signedByUs, Headers);
        theirs.Sign(signedByMimeKit, Headers);

        var header = signedByUs.Headers[HeaderId.DkimSignature];
        Assert.Equal(signedByMimeKit.Headers[HeaderId.DkimSignature], header);
        Assert.Contains($"t={SignedAt.ToUnixTimeSeconds()}", header, StringComparison.Ordinal);
        Assert.Contains("a=rsa-sha256", header, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SigningOnManyThreadsAtOnce_GivesEveryMessageTheSameValidSignature()
    {
        using var signer = new RsaDkimSigner(TestPaths.Fixture("email/dkim-rsa.pem"), "news.example", "s1", new ManualTime(SignedAt));
        using var expected = Sample();
        signer.Sign(expected, Headers);

        var headers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            var signed = new List<string>();
            for (var i = 0; i < 25; i++)
            {
                using var message = Sample();
                signer.Sign(message, Headers);
                signed.Add(message.Headers[HeaderId.DkimSignature] ?? "(no signature)");
            }

            return signed;
        })));

        Assert.All(headers.SelectMany(h => h), h => Assert.Equal(expected.Headers[HeaderId.DkimSignature], h));
        var verifier = new DkimVerifier(new DkimKeyRecords([new(DkimKeyRecords.RecordName("s1", "news.example"), File.ReadAllText(TestPaths.Fixture("email/dkim-rsa.txt")).Trim())]));
        Assert.True(await verifier.VerifyAsync(expected, expected.Headers[expected.Headers.IndexOf(HeaderId.DkimSignature)]));
    }

    [Fact]
    public void AnEd25519Key_SetUpForRsa_IsRefusedWithTheSettingsName()
    {
        var options = new EmailOptions
        {
            From = "desk@news.example",
            Dkim = new DkimOptions { Domain = "news.example", Selector = "s1", PrivateKeyPath = TestPaths.Fixture("email/dkim-ed25519.pem"), Algorithm = DkimOptions.RsaSha256 },
        };

        var error = Assert.Throws<ArgumentException>(() => new EmailComposer(options, TimeProvider.System));

        Assert.Contains("NewsBot:Email:Dkim:PrivateKeyPath", error.Message, StringComparison.Ordinal);
        Assert.Contains("is not a PEM rsa-sha256 private key", error.Message, StringComparison.Ordinal);
    }

    private static MimeMessage Sample()
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("News Desk", "desk@news.example"));
        message.To.Add(new MailboxAddress("", "reader@example.org"));
        message.Subject = "Digest: sanctions, the Diet and the yen";
        message.Date = SignedAt;
        message.MessageId = "send.1.sub.2.email@news.example";
        message.Headers.Add("List-Unsubscribe", "<https://news.example/unsubscribe?s=abc>");
        message.Headers.Add("List-Unsubscribe-Post", EmailComposer.OneClick);
        message.Body = new TextPart("plain") { Text = string.Join("\n", Enumerable.Range(1, 200).Select(i => $"Line {i} of the digest,  with  spaces \t and a tab ")) };
        message.Prepare(EncodingConstraint.SevenBit);
        return message;
    }

    /// <summary>MimeKit's BouncyCastle signer with the same clock.</summary>
    private sealed class FixedTimeDkimSigner(string keyPath) : DkimSigner(keyPath, "news.example", "s1", DkimSignatureAlgorithm.RsaSha256)
    {
        protected override long GetTimestamp() => SignedAt.ToUnixTimeSeconds();
    }
}
