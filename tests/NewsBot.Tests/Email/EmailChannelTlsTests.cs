using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

using NewsBot.Delivery;
using NewsBot.Email;
using NewsBot.Subscribers;
using NewsBot.Templates;
using NewsBot.Tests.Delivery;

namespace NewsBot.Tests.Email;

/// <summary>
/// The SMTP channel over STARTTLS and over TLS from the start, against a relay whose self-signed certificate is
/// trusted through <c>NewsBot:Email:Smtp:TrustedCertificatePath</c>, and refused without it or for another host name.
/// </summary>
public sealed class EmailChannelTlsTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "newsbot-tls-" + Guid.NewGuid().ToString("N"));
    private X509Certificate2 _certificate = null!;
    private string _certificatePath = null!;
    private SmtpTestServer? _smtp;
    private DeliveryHarness? _harness;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Through PKCS #12, so the server's SslStream gets a key it can use on every platform.
        _certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
        _certificatePath = Path.Combine(_folder, "relay.pem");
        File.WriteAllText(_certificatePath, created.ExportCertificatePem());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_harness?.Services.GetService<EmailChannel>() is { } channel)
        {
            await channel.DisposeAsync();
        }

        _harness?.Dispose();
        if (_smtp is not null)
        {
            await _smtp.DisposeAsync();
        }

        _certificate.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Theory]
    [InlineData("StartTls", false)]
    [InlineData("Tls", true)]
    public async Task ATrustedSelfSignedRelay_TakesTheMessageOverTls(string security, bool implicitTls)
    {
        var channel = await StartAsync(security, implicitTls, "localhost", _certificatePath);

        var result = await channel.SendAsync(Message("k:1", "reader@example.org"), Ct);

        Assert.Equal(ChannelResult.Sent, result);
        var mail = Assert.Single(_smtp!.Received);
        Assert.True(mail.OverTls, $"{security}: the message went in clear text");
        Assert.Equal(["reader@example.org"], mail.RcptTo);
        Assert.Equal("Digest", mail.Parse().Subject);
    }

    [Fact]
    public async Task ManyMessagesOverOneTlsSession_ArriveWhole()
    {
        var channel = await StartAsync("StartTls", false, "localhost", _certificatePath);
        var body = string.Concat(Enumerable.Range(0, 2_000).Select(i => $"<p>line {i}</p>\n"));

        foreach (var i in Enumerable.Range(1, 5))
        {
            var message = new OutgoingMessage($"k:{i}", Channels.Email, $"r{i}@example.org", "Digest", body, "text", Links);
            Assert.Equal(ChannelResult.Sent, await channel.SendAsync(message, Ct));
        }

        Assert.Equal(5, _smtp!.Received.Count);
        Assert.All(_smtp.Received, m => Assert.Equal(body, m.Parse().HtmlBody));
        Assert.Equal(1, channel.ConnectionsOpened);
    }

    [Fact]
    public async Task WithoutTheTrustedCertificate_TheRelayIsRefused_AndNothingIsSent()
    {
        var channel = await StartAsync("StartTls", false, "localhost", trusted: null);

        var result = await channel.SendAsync(Message("k:1", "reader@example.org"), Ct);

        // Every message would meet the same certificate: permanent, so a run of them pauses the send.
        Assert.Equal(ChannelOutcome.FailedPermanent, result.Outcome);
        Assert.StartsWith("TLS: the certificate of localhost was refused (CN=localhost)", result.Error, StringComparison.Ordinal);
        Assert.Contains("TrustedCertificatePath", result.Error, StringComparison.Ordinal);
        Assert.Empty(_smtp!.Received);
    }

    [Fact]
    public async Task ATrustedCertificate_ForAnotherHostName_IsStillRefused()
    {
        // The certificate names localhost; the relay is addressed as 127.0.0.1.
        var channel = await StartAsync("StartTls", false, "127.0.0.1", _certificatePath);

        var result = await channel.SendAsync(Message("k:1", "reader@example.org"), Ct);

        Assert.Equal(ChannelOutcome.FailedPermanent, result.Outcome);
        Assert.StartsWith("TLS: the certificate of 127.0.0.1 was refused", result.Error, StringComparison.Ordinal);
        Assert.Empty(_smtp!.Received);
    }

    private static SubscriberLinks Links => new("https://news.example/preferences?s=1", "https://news.example/unsubscribe?s=1");

    private async Task<EmailChannel> StartAsync(string security, bool implicitTls, string host, string? trusted)
    {
        _smtp = await SmtpTestServer.StartAsync(_certificate, implicitTls);
        _harness = await DeliveryHarness.CreateAsync(
        [
            ("NewsBot:Email:From", "News Desk <desk@news.example>"),
            ("NewsBot:Email:Smtp:Host", host),
            ("NewsBot:Email:Smtp:Port", _smtp.Port.ToString(CultureInfo.InvariantCulture)),
            ("NewsBot:Email:Smtp:Security", security),
            ("NewsBot:Email:Smtp:TrustedCertificatePath", trusted),
            ("NewsBot:Email:Smtp:Timeout", "00:00:10"),
            ("NewsBot:Templates:PublicBaseUrl", "https://news.example"),
        ]);
        return _harness.Services.GetRequiredService<EmailChannel>();
    }

    private static OutgoingMessage Message(string key, string address) =>
        new(key, Channels.Email, address, "Digest", "<p>Body</p>", "Body", Links);
}
