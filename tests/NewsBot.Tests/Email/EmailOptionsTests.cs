using NewsBot.Email;

namespace NewsBot.Tests.Email;

public sealed class EmailOptionsTests
{
    [Fact]
    public void Defaults_AreValid_AndLeaveSmtpOff()
    {
        var options = new EmailOptions();

        Assert.Empty(options.Validate());
        Assert.False(options.SmtpEnabled);
    }

    [Fact]
    public void SmtpSettings_AreCheckedOnlyWhenAHostIsSet()
    {
        var off = new EmailOptions { Smtp = { Port = 0, PoolSize = 0 } };
        var on = new EmailOptions { Smtp = { Host = "smtp.example.org", Port = 0, PoolSize = 0 } };

        Assert.Empty(off.Validate());
        Assert.Equal(2, on.Validate().Count());
    }

    [Fact]
    public async Task WrongSettings_StopTheCli_WithExitCode2_AndOneLinePerKey()
    {
        using var host = TestHost.Create(
            ("NewsBot:Email:From", "not a mailbox"),
            ("NewsBot:Email:ReplyTo", "no at sign"),
            ("NewsBot:Email:ListId", "news..example"),
            ("NewsBot:Email:UnsubscribeMailto", "Name <u@example.org>"),
            ("NewsBot:Email:PermanentFailurePause", "-1"),
            ("NewsBot:Email:Smtp:Host", "smtp.example.org"),
            ("NewsBot:Email:Smtp:Port", "70000"),
            ("NewsBot:Email:Smtp:Username", "user"),
            ("NewsBot:Email:Smtp:PoolSize", "0"),
            ("NewsBot:Email:Smtp:Timeout", "00:00:00"),
            ("NewsBot:Email:Smtp:TrustedCertificatePath", "/nonexistent/relay.pem"),
            ("NewsBot:Email:Dkim:Domain", "news.example"),
            ("NewsBot:Email:Dkim:Selector", "s 1"),
            ("NewsBot:Email:Dkim:PrivateKeyPath", "/nonexistent/key.pem"),
            ("NewsBot:Email:Dkim:Algorithm", "rsa-sha1"),
            ("NewsBot:Email:Verp:Enabled", "true"),
            ("NewsBot:Email:Verp:LocalPart", "bounce+x"));

        var (code, _, error) = await host.RunCliAsync("sends", "show", "1");

        Assert.Equal(2, code);
        string[] keys =
        [
            "NewsBot:Email:From 'not a mailbox'", "NewsBot:Email:ReplyTo 'no at sign'", "NewsBot:Email:ListId 'news..example'",
            "NewsBot:Email:UnsubscribeMailto 'Name <u@example.org>'", "NewsBot:Email:PermanentFailurePause -1", "NewsBot:Email:Smtp:Port 70000",
            "NewsBot:Email:Smtp:Username and NewsBot:Email:Smtp:Password go together", "NewsBot:Email:Smtp:PoolSize 0",
            "NewsBot:Email:Smtp:Timeout 00:00:00", "NewsBot:Email:Smtp:TrustedCertificatePath '/nonexistent/relay.pem' is not a readable PEM certificate",
            "NewsBot:Email:Dkim:Selector 's 1'", "NewsBot:Email:Dkim:PrivateKeyPath '/nonexistent/key.pem'",
            "NewsBot:Email:Dkim:Algorithm 'rsa-sha1'", "NewsBot:Email:Verp:LocalPart 'bounce+x'",
        ];
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.StartsWith("NewsBot:Email", StringComparison.Ordinal)).ToList();
        Assert.Equal(keys.Length, lines.Count);
        foreach (var key in keys)
        {
            Assert.Contains(lines, l => l.StartsWith(key, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task AKeyFileThatIsNotAKey_IsReportedAtStart()
    {
        using var host = TestHost.Create(
            ("NewsBot:Email:From", "desk@news.example"),
            ("NewsBot:Email:Smtp:Host", "127.0.0.1"),
            ("NewsBot:Email:Dkim:Domain", "news.example"),
            ("NewsBot:Email:Dkim:Selector", "s1"),
            ("NewsBot:Email:Dkim:PrivateKeyPath", TestPaths.Fixture("email/dkim-rsa.txt")));

        var (code, _, error) = await host.RunCliAsync("sends", "show", "1");

        Assert.Equal(2, code);
        Assert.Contains("NewsBot:Email:Dkim:PrivateKeyPath", error, StringComparison.Ordinal);
        Assert.Contains("is not a PEM rsa-sha256 private key", error, StringComparison.Ordinal);
    }
}
