using System.Globalization;
using System.Text.RegularExpressions;

using Microsoft.Extensions.Options;

using NewsBot.Delivery;
using NewsBot.Subscribers;
using NewsBot.Telegram;
using NewsBot.Tests.Delivery;

namespace NewsBot.Tests.Telegram;

/// <summary>The ETA an admin is shown comes from the rate the Telegram lane really sends at: one setting, not two.</summary>
public sealed partial class SendEtaTests : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private DeliveryHarness? harness;

    public void Dispose() => harness?.Dispose();

    private async Task<DeliveryHarness> CreateAsync(int telegramPerSecond, int chats)
    {
        harness = await DeliveryHarness.CreateAsync(
            ("NewsBot:Telegram:BotToken", FakeBotApi.DefaultToken),
            ("NewsBot:Telegram:GlobalMessagesPerSecond", telegramPerSecond.ToString(CultureInfo.InvariantCulture)),
            ("NewsBot:Delivery:OutboxRatePerSecond", "1000"));
        await harness.SeedAsync([.. Enumerable.Range(1, chats).Select(i => new NewSubscriber($"r{i}@example.org", 7000 + i, [], Cadence.Instant))]);
        return harness;
    }

    [GeneratedRegex(@"Done by about (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC")]
    private static partial Regex ShownEta();

    [Theory]
    [InlineData(2, 15)]
    [InlineData(25, 2)]
    public async Task ThePlannersEtaIsTheTelegramBacklogAtTheLanesRate(int perSecond, int expectedSeconds)
    {
        var h = await CreateAsync(perSecond, 30);
        var postId = await h.AddPostAsync("p1", ["sanctions"]);
        var before = DateTimeOffset.UtcNow;

        var plan = await h.Planner.PlanAsync(new SendRequest("post", postId, null, null, null, true), Ct);

        var lane = Assert.IsType<TelegramChannel>(h.Services.GetServices<IChannel>().Last(c => c.Name == Channels.Telegram));
        Assert.Equal(perSecond, lane.MessagesPerSecond);
        Assert.Equal(60, plan.Messages);
        // Email (the outbox at 1000/s) finishes first; the Telegram backlog, ceil(30 / rate) seconds, decides.
        Assert.InRange(plan.Eta - before, TimeSpan.FromSeconds(expectedSeconds), TimeSpan.FromSeconds(expectedSeconds + 20));
    }

    [Fact]
    public async Task TheAdminsSendReplyShowsTheEtaAtTheLanesRate()
    {
        var h = await CreateAsync(1, 90);
        var postId = await h.AddPostAsync("p1", ["sanctions"]);
        var bot = ActivatorUtilities.CreateInstance<BotCommands>(h.Services, Options.Create(new TelegramBotOptions { AdminChatIds = [42] }));
        var before = DateTimeOffset.UtcNow;

        var reply = Assert.Single(await bot.HandleAsync(new IncomingMessage(42, "private", 42, "boss", $"/send {postId}"), Ct));

        Assert.Contains("180 recipients (90 by email, 90 by telegram)", reply.Text);
        var shown = DateTimeOffset.ParseExact(ShownEta().Match(reply.Text).Groups[1].Value, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        // 90 chats at 1 per second; the reply shows whole seconds.
        Assert.InRange(shown - before, TimeSpan.FromSeconds(89), TimeSpan.FromSeconds(110));
    }

    [Fact]
    public async Task TheCliDryRunShowsTheDurationAtTheLanesRate()
    {
        var h = await CreateAsync(1, 150);
        var postId = await h.AddPostAsync("p1", ["sanctions"]);

        var (exitCode, output, error) = await h.RunCliAsync("send", "post", postId.ToString(CultureInfo.InvariantCulture), "--channel", "telegram", "--dry-run");

        Assert.True(exitCode == 0, error);
        // 150 chats at 1 per second: 2:30, shown as what is left of it when printed.
        Assert.Matches(@"dry run: would send to 150 \(telegram 150\), about 2:(29|30)", output);
    }
}
