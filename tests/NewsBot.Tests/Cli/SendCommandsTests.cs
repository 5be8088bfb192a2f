using System.Text.RegularExpressions;

using NewsBot.Cli;
using NewsBot.Delivery;

namespace NewsBot.Tests.Cli;

/// <summary>The admin's verbs against the embedded defaults: the outbox stands in for Telegram and email.</summary>
public sealed class SendCommandsTests : IDisposable
{
    private readonly TestHost host = TestHost.Create();

    public void Dispose() => host.Dispose();

    private string Outbox => Path.Combine(host.DataDirectory, "outbox");

    private async Task<long> PollAndFindPostAsync(string topic)
    {
        await host.RunCliAsync("feeds", "poll");
        var (_, latest, _) = await host.RunCliAsync("posts", "latest", "-n", "1", "--topic", topic);
        return long.Parse(Regex.Match(latest, @"#(\d+) ").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task AnAdminSendsADigestToTheOutboxAndTheNextOneHasNothingNew()
    {
        await host.RunCliAsync("feeds", "poll");
        var (addExit, _, addError) = await host.RunCliAsync("subscribers", "add", "--email", "reader@example.org", "--cadence", "weekly", "--topics", "sanctions");
        await host.RunCliAsync("subscribers", "add", "--email", "daily@example.org", "--cadence", "daily");

        var (sendExit, sent, sendError) = await host.RunCliAsync("send", "digest", "weekly", "--since", "2025-01-01");
        var (againExit, again, _) = await host.RunCliAsync("send", "digest", "weekly");

        Assert.True(addExit == 0, addError);
        Assert.True(sendExit == 0, sendError);
        Assert.Matches(@"send \d+: 1 recipient\(s\) \(email 1\)", sent);
        Assert.Matches(@"\[#{30}\] 1/1 sent, 0 failed, 0 remaining", sent);
        Assert.Matches(@"send \d+ done: 1 sent, 0 failed, 0 skipped", sent);
        var message = Assert.Single(Directory.GetFiles(Outbox, "*.eml"));
        var eml = File.ReadAllText(message);
        Assert.Contains("To: reader@example.org", eml);
        Assert.Contains("anction", eml);
        Assert.Equal(0, againExit);
        Assert.Contains("0 recipient(s)", again);
        Assert.Single(Directory.GetFiles(Outbox, "*.eml"));
    }

    [Fact]
    public async Task ADryRunCountsAndWritesNothing()
    {
        var postId = await PollAndFindPostAsync("sanctions");
        await host.RunCliAsync("subscribers", "add", "--email", "a@example.org", "--topics", "sanctions");
        await host.RunCliAsync("subscribers", "add", "--telegram", "4242", "--topics", "sanctions");
        await host.RunCliAsync("subscribers", "add", "--email", "off@example.org", "--cadence", "off");

        var (exitCode, output, error) = await host.RunCliAsync("send", "post", postId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dry-run");

        Assert.True(exitCode == 0, error);
        Assert.Contains("dry run: would send to 2 (email 1, telegram 1)", output);
        Assert.False(Directory.Exists(Outbox) && Directory.EnumerateFiles(Outbox).Any());
    }

    [Fact]
    public async Task SendsShowReportsCountsPerState()
    {
        var postId = await PollAndFindPostAsync("sanctions");
        await host.RunCliAsync("subscribers", "add", "--telegram", "4242");
        var (_, sent, _) = await host.RunCliAsync("send", "post", postId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--channel", "telegram");
        var sendId = Regex.Match(sent, @"send (\d+):").Groups[1].Value;

        var (exitCode, shown, _) = await host.RunCliAsync("sends", "show", sendId);
        var (missingExit, _, missing) = await host.RunCliAsync("sends", "show", "999");

        Assert.Equal(0, exitCode);
        Assert.Contains($"send {sendId}: post of post {postId} to telegram, by cli", shown);
        Assert.Contains("sent 1", shown);
        var json = Assert.Single(Directory.GetFiles(Outbox, "*.json"));
        Assert.Contains("\"chat_id\": 4242", File.ReadAllText(json).Replace("\"chat_id\":4242", "\"chat_id\": 4242", StringComparison.Ordinal));
        Assert.Equal(1, missingExit);
        Assert.Contains("send 999 does not exist", missing);
    }

    [Fact]
    public async Task PreviewRendersEachChannelAndRefusesAnUnknownOne()
    {
        var postId = (await PollAndFindPostAsync("sanctions")).ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (htmlExit, html, _) = await host.RunCliAsync("preview", "post", postId, "--channel", "email-html");
        var (textExit, text, _) = await host.RunCliAsync("preview", "post", postId, "--channel", "email-text");
        var (badExit, _, bad) = await host.RunCliAsync("preview", "post", postId, "--channel", "fax");

        Assert.Equal(0, htmlExit);
        Assert.StartsWith("Subject: ", html);
        Assert.Contains("<html", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, textExit);
        Assert.DoesNotContain("<p>", text);
        Assert.Equal(1, badExit);
        Assert.Contains("channel 'fax' is not a preview channel", bad);
    }

    [Fact]
    public async Task ATestSendGoesToOneAddressOutsideTheLedger()
    {
        await host.RunCliAsync("feeds", "poll");

        var (exitCode, output, error) = await host.RunCliAsync("send", "test", "--email", "me@example.org");
        var (bothExit, _, both) = await host.RunCliAsync("send", "test", "--email", "me@example.org", "--telegram", "1");

        Assert.True(exitCode == 0, error);
        Assert.Contains("to email me@example.org: Sent", output);
        Assert.Contains("To: me@example.org", File.ReadAllText(Assert.Single(Directory.GetFiles(Outbox, "*.eml"))));
        Assert.Equal(1, bothExit);
        Assert.Contains("exactly one of --email", both);
    }

    [Fact]
    public void TheProgressLineShowsCountsRateAndEta()
    {
        var counts = new Dictionary<DeliveryState, int> { [DeliveryState.Sent] = 4500, [DeliveryState.FailedPermanent] = 10, [DeliveryState.Pending] = 5490 };

        var line = SendCommands.DrawProgress(counts, 10_000, TimeSpan.FromSeconds(10));

        Assert.Equal("[#############.................] 4,500/10,000 sent, 10 failed, 5,490 remaining, 451/s, ETA 0:12", line);
    }
}
