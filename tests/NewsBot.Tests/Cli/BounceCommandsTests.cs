using NewsBot.Email;
using NewsBot.Subscribers;
using NewsBot.Tests.Email;

namespace NewsBot.Tests.Cli;

public sealed class BounceCommandsTests
{
    [Fact]
    public async Task BouncesList_ShowsEachBounceWithItsSuppression()
    {
        using var host = TestHost.Create();
        var services = await host.StartAsync();
        await services.GetRequiredService<SubscriberStore>().AddAsync(new NewSubscriber("erin@example.org", null, [], Cadence.Instant), CancellationToken.None);
        await services.GetRequiredService<BounceProcessor>().ProcessReportAsync(
            BounceProcessorTests.Dsn("cli@mx.example.net", "erin@example.org", "failed", "5.1.1"), CancellationToken.None);

        var (exitCode, output, error) = await host.RunCliAsync("bounces", "list", "--address", "erin@example.org");

        Assert.Equal(0, exitCode);
        Assert.Equal("", error);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d  hard       5\.1\.1         erin@example\.org  suppressed: hard bounce 5\.1\.1: smtp; 550 5\.1\.1 reported by the test\r?$", line);
    }

    [Fact]
    public async Task BouncesList_NoneRecorded_SaysSo()
    {
        using var host = TestHost.Create();

        var (exitCode, output, _) = await host.RunCliAsync("bounces", "list");

        Assert.Equal(0, exitCode);
        Assert.Equal("no bounces recorded", output.Trim());
    }

    [Fact]
    public async Task BouncesPoll_MailboxOff_ExitsOneSayingWhichSettingTurnsItOn()
    {
        using var host = TestHost.Create();

        var (exitCode, _, error) = await host.RunCliAsync("bounces", "poll");

        Assert.Equal(1, exitCode);
        Assert.Contains($"{BounceOptions.Section}:Enabled", error);
    }

    [Fact]
    public async Task BouncesPoll_ServerUnreachable_ExitsOneWithTheReason()
    {
        var port = TestHost.FreePort();
        using var host = TestHost.Create(
            ("NewsBot:Email:Bounces:Enabled", "true"),
            ("NewsBot:Email:Bounces:Host", "127.0.0.1"),
            ("NewsBot:Email:Bounces:Port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("NewsBot:Email:Bounces:Security", "None"),
            ("NewsBot:Email:Bounces:Username", "bounces"),
            ("NewsBot:Email:Bounces:Password", "secret"));

        var (exitCode, _, error) = await host.RunCliAsync("bounces", "poll");

        Assert.Equal(1, exitCode);
        Assert.StartsWith("error: ", error);
    }
}
