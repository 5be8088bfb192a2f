using MailKit.Security;

using Microsoft.Extensions.Options;

using NewsBot.Email;

namespace NewsBot.Tests.Email;

public sealed class BounceOptionsTests
{
    [Fact]
    public void Defaults_AreValidAndOff()
    {
        var options = new BounceOptions();

        Assert.False(options.Enabled);
        Assert.True(new BounceOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Enabled_WithConnectionSettings_IsValid()
    {
        var options = new BounceOptions { Enabled = true, Host = "imap.example.org", Username = "bounces", Password = "secret", Security = "sslonconnect" };

        Assert.True(new BounceOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(SecureSocketOptions.SslOnConnect, options.SocketOptions);
    }

    [Fact]
    public async Task WrongSettings_StopTheStart_NamingEachKey()
    {
        using var host = TestHost.Create(
            ("NewsBot:Email:Bounces:Enabled", "true"),
            ("NewsBot:Email:Bounces:Port", "0"),
            ("NewsBot:Email:Bounces:Security", "Tls"),
            ("NewsBot:Email:Bounces:Cron", "hourly"),
            ("NewsBot:Email:Bounces:ProcessedFolder", "INBOX"),
            ("NewsBot:Email:Bounces:SoftBounceThreshold", "0"),
            ("NewsBot:Email:Bounces:SoftBounceWindow", "00:10:00"));

        var e = await Assert.ThrowsAsync<OptionsValidationException>(host.StartAsync);

        string[] expected =
        [
            "NewsBot:Email:Bounces:Host is required",
            "NewsBot:Email:Bounces:Port 0",
            "NewsBot:Email:Bounces:Username and NewsBot:Email:Bounces:Password are required",
            "NewsBot:Email:Bounces:ProcessedFolder 'INBOX'",
            "NewsBot:Email:Bounces:Cron 'hourly'",
            "NewsBot:Email:Bounces:Security 'Tls'",
            "NewsBot:Email:Bounces:SoftBounceThreshold 0",
            "NewsBot:Email:Bounces:SoftBounceWindow 00:10:00",
        ];
        Assert.Equal(expected.Length, e.Failures.Count());
        foreach (var start in expected)
        {
            Assert.Contains(e.Failures, f => f.StartsWith(start, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task PollBounceMailboxAsync_WhenOff_RefusesSayingHowToTurnItOn()
    {
        using var host = TestHost.Create();
        var services = await host.StartAsync();

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => services.GetRequiredService<BounceMailboxJob>().PollBounceMailboxAsync(CancellationToken.None));

        Assert.Contains("NewsBot:Email:Bounces:Enabled", e.Message);
    }
}
