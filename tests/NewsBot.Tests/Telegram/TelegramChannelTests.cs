using System.Diagnostics;
using System.Globalization;

using NewsBot.Delivery;
using NewsBot.Subscribers;
using NewsBot.Telegram;

namespace NewsBot.Tests.Telegram;

/// <summary>The Telegram channel against the fake Bot API, through the application's own service wiring.</summary>
public sealed class TelegramChannelTests : IAsyncLifetime
{
    private FakeBotApi fake = null!;
    private TestHost host = null!;

    public async Task InitializeAsync() => fake = await FakeBotApi.StartAsync();

    public async Task DisposeAsync()
    {
        host?.Dispose();
        await fake.DisposeAsync();
    }

    private async Task<IServiceProvider> StartAsync(params (string Key, string? Value)[] settings)
    {
        host = TestHost.Create([
            ("NewsBot:Telegram:BotToken", fake.Token),
            ("NewsBot:Telegram:ApiBaseUrl", fake.BaseUrl),
            .. settings]);
        return await host.StartAsync();
    }

    private static IChannel TelegramOf(IServiceProvider services) =>
        services.GetServices<IChannel>().Last(c => c.Name == Channels.Telegram);

    private static OutgoingMessage Message(string address, string body, string key = "send:1:sub:1:telegram") =>
        new(key, Channels.Telegram, address, "subject", body, null);

    private static async Task<long> AddSubscriberAsync(IServiceProvider services, long chatId) =>
        await services.GetRequiredService<SubscriberStore>().AddAsync(new NewSubscriber(null, chatId, [], Cadence.Instant), CancellationToken.None);

    private static async Task<SubscriberChannel> TelegramChannelOfAsync(IServiceProvider services, long subscriberId) =>
        (await services.GetRequiredService<SubscriberStore>().GetAsync(subscriberId, CancellationToken.None))!
            .Channels.Single(c => c.Channel == Channels.Telegram);

    [Fact]
    public async Task TheTelegramChannelReplacesTheOutboxWhenATokenIsSet()
    {
        var services = await StartAsync();

        Assert.IsType<TelegramChannel>(TelegramOf(services));
        Assert.IsType<OutboxChannel>(services.GetServices<IChannel>().Last(c => c.Name == Channels.Email));
    }

    [Fact]
    public async Task AnEscapedTitleWithLessThanAmpersandAndEmojiIsAccepted()
    {
        var channel = TelegramOf(await StartAsync());

        var result = await channel.SendAsync(
            Message("4242", "<b>Tariffs &lt; 5% &amp; sanctions 🇯🇵</b>\n<a href=\"https://example.org/p?a=1&amp;b=2\">Read</a>"), CancellationToken.None);

        Assert.Equal(ChannelResult.Sent, result);
        var sent = Assert.Single(fake.Messages);
        Assert.Equal(4242, sent.ChatId);
        Assert.Equal("Tariffs < 5% & sanctions 🇯🇵\nRead", sent.Plain);
        Assert.Contains("\"is_disabled\":true", sent.LinkPreviewOptions);
    }

    [Fact]
    public async Task ABlockedBotFailsPermanentlyAndMarksTheChannelBlocked()
    {
        var services = await StartAsync();
        var subscriber = await AddSubscriberAsync(services, 1001);
        fake.Block(1001);

        var result = await TelegramOf(services).SendAsync(Message("1001", "hello"), CancellationToken.None);

        Assert.Equal(ChannelOutcome.FailedPermanent, result.Outcome);
        Assert.Contains("bot was blocked by the user", result.Error);
        Assert.Equal(ChannelStatus.Blocked, (await TelegramChannelOfAsync(services, subscriber)).Status);
        Assert.Empty(fake.Messages);
    }

    [Fact]
    public async Task AChatNotFoundFailsPermanentlyAndMarksTheChannelBlocked()
    {
        var services = await StartAsync();
        var subscriber = await AddSubscriberAsync(services, 2002);
        fake.AnyChatExists = false;

        var result = await TelegramOf(services).SendAsync(Message("2002", "hello"), CancellationToken.None);

        Assert.Equal(ChannelOutcome.FailedPermanent, result.Outcome);
        Assert.Contains("chat not found", result.Error);
        Assert.Equal(ChannelStatus.Blocked, (await TelegramChannelOfAsync(services, subscriber)).Status);
    }

    [Fact]
    public async Task AMigratedGroupIsReKeyedAndGetsTheMessageAtItsNewId()
    {
        var services = await StartAsync();
        var subscriber = await AddSubscriberAsync(services, -4001);
        fake.Migrate(-4001, -1_000_000_004_001);

        var result = await TelegramOf(services).SendAsync(Message("-4001", "<i>news</i>"), CancellationToken.None);

        Assert.Equal(ChannelResult.Sent, result);
        Assert.Equal(-1_000_000_004_001, Assert.Single(fake.Messages).ChatId);
        var channel = await TelegramChannelOfAsync(services, subscriber);
        Assert.Equal("-1000000004001", channel.Address);
        Assert.Equal(ChannelStatus.Active, channel.Status);
    }

    [Theory]
    [InlineData("<b>unclosed", "can't parse entities")]
    [InlineData("", "message text is empty")]
    public async Task TextTelegramRefusesFailsPermanentlyWithItsDescription(string body, string expected)
    {
        var channel = TelegramOf(await StartAsync());

        var result = await channel.SendAsync(Message("5", body), CancellationToken.None);

        Assert.Equal(ChannelOutcome.FailedPermanent, result.Outcome);
        Assert.Contains(expected, result.Error);
    }

    [Fact]
    public async Task ATooLongMessageFailsPermanently()
    {
        var channel = TelegramOf(await StartAsync());

        var result = await channel.SendAsync(Message("5", new string('x', 10_000)), CancellationToken.None);

        Assert.Equal(ChannelOutcome.FailedPermanent, result.Outcome);
        Assert.Equal("Bad Request: message is too long", result.Error);
    }

    [Fact]
    public async Task A429PausesTheLaneAndTheMessageGoesOutAfterIt()
    {
        // The channel's own per-chat pause is below Telegram's, so the fake answers 429 on the second message.
        var channel = (TelegramChannel)TelegramOf(await StartAsync(("NewsBot:Telegram:PerChatInterval", "00:00:00.010")));
        fake.PerChatPerSecond = 1;
        var clock = Stopwatch.StartNew();

        var first = await channel.SendAsync(Message("7", "one", "k1"), CancellationToken.None);
        var second = await channel.SendAsync(Message("7", "two", "k2"), CancellationToken.None);
        var pausedUntil = await channel.Lane.ReadPausedUntilAsync(CancellationToken.None);
        var other = await channel.SendAsync(Message("8", "other chat", "k3"), CancellationToken.None);

        Assert.Equal(ChannelResult.Sent, first);
        Assert.Equal(ChannelResult.Sent, second);
        Assert.Equal(ChannelResult.Sent, other);
        Assert.Equal(1, fake.TooManyRequests);
        Assert.Equal(["one", "two", "other chat"], fake.Messages.Select(m => m.Text));
        Assert.True(pausedUntil > DateTimeOffset.UtcNow.AddMinutes(-1), $"the 429 paused the lane (paused until {pausedUntil})");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.95), $"the retry waited for retry_after (took {clock.Elapsed})");
    }

    [Fact]
    public async Task Three429sInARowFailTransiently()
    {
        var channel = TelegramOf(await StartAsync());
        fake.FailNextSends(3, 429);

        var result = await channel.SendAsync(Message("9", "refused", "k1"), CancellationToken.None);
        var next = await channel.SendAsync(Message("9", "accepted", "k2"), CancellationToken.None);

        Assert.True(result.Outcome == ChannelOutcome.FailedTransient, result.Error);
        Assert.Contains("3 tries", result.Error);
        Assert.Equal(3, fake.TooManyRequests);
        Assert.Equal(ChannelResult.Sent, next);
        Assert.Equal(["accepted"], fake.Messages.Select(m => m.Text));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    public async Task ServerErrorsFailTransiently(int status)
    {
        var channel = TelegramOf(await StartAsync());
        fake.FailNextSends(1, status);

        var serverError = await channel.SendAsync(Message("11", "a", "k1"), CancellationToken.None);
        var recovered = await channel.SendAsync(Message("12", "b", "k2"), CancellationToken.None);

        Assert.Equal(ChannelOutcome.FailedTransient, serverError.Outcome);
        Assert.Contains(status.ToString(CultureInfo.InvariantCulture), serverError.Error);
        Assert.Equal(ChannelResult.Sent, recovered);
        Assert.Equal(["b"], fake.Messages.Select(m => m.Text));
    }

    [Fact]
    public async Task ARequestOverTheTimeoutFailsTransiently()
    {
        var channel = TelegramOf(await StartAsync(("NewsBot:Telegram:RequestTimeout", "00:00:02")));
        var warm = await channel.SendAsync(Message("11", "a", "k1"), CancellationToken.None);
        fake.SendDelay = TimeSpan.FromSeconds(30);
        var clock = Stopwatch.StartNew();

        var timeout = await channel.SendAsync(Message("12", "b", "k2"), CancellationToken.None);

        Assert.Equal(ChannelResult.Sent, warm);
        Assert.Equal(ChannelOutcome.FailedTransient, timeout.Outcome);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"gave up after the request timeout, not the server's delay ({clock.Elapsed})");
        Assert.Equal(["a"], fake.Messages.Select(m => m.Text));
    }

    [Fact]
    public async Task ABurstTo200ChatsUnderTelegramsLimitsIsSentExactlyOnceEachWithout429s()
    {
        var channel = TelegramOf(await StartAsync(("NewsBot:Telegram:GlobalMessagesPerSecond", "30")));
        fake.MessagesPerSecond = 30;
        fake.PerChatPerSecond = 1;
        var clock = Stopwatch.StartNew();

        var results = await Task.WhenAll(Enumerable.Range(1, 200).Select(i =>
            channel.SendAsync(Message(i.ToString(CultureInfo.InvariantCulture), $"post {i}", $"k{i}"), CancellationToken.None)));

        Assert.All(results, r => Assert.Equal(ChannelResult.Sent, r));
        Assert.Equal(0, fake.TooManyRequests);
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), fake.Messages.Select(m => m.ChatId).Order());
        // 200 messages at 30 per second: about 6.6 s, never faster than the limit.
        Assert.InRange(clock.Elapsed.TotalSeconds, 6.0, 20.0);
    }

    [Fact]
    public async Task ASendPostByTheCliReachesTheChatThroughTheBotApi()
    {
        await StartAsync();
        await host.RunCliAsync("feeds", "poll");
        var (_, latest, _) = await host.RunCliAsync("posts", "latest", "-n", "1");
        var postId = System.Text.RegularExpressions.Regex.Match(latest, @"#(\d+) ").Groups[1].Value;
        var (addExit, _, addError) = await host.RunCliAsync("subscribers", "add", "--telegram", "4242");

        var (exitCode, output, error) = await host.RunCliAsync("send", "post", postId, "--channel", "telegram");

        Assert.True(addExit == 0, addError);
        Assert.True(exitCode == 0, error + output);
        Assert.Contains("1 sent, 0 failed", output);
        var message = Assert.Single(fake.Messages);
        Assert.Equal(4242, message.ChatId);
        Assert.False(Directory.Exists(Path.Combine(host.DataDirectory, "outbox")) && Directory.EnumerateFiles(Path.Combine(host.DataDirectory, "outbox")).Any());
    }

    [Fact]
    public async Task AChannelIsReachedByItsUsernameAndAnUnknownUsernameIsMarkedBlocked()
    {
        var services = await StartAsync();
        fake.AddChannel(-1001234567890, "harbour_news");
        fake.SetMember(-1001234567890, fake.BotId, "administrator");
        var store = services.GetRequiredService<SubscriberStore>();
        await store.SyncBroadcastsAsync([new BroadcastTarget("@harbour_news", []), new BroadcastTarget("@gone_channel", [])], CancellationToken.None);
        var channel = TelegramOf(services);

        var first = await channel.SendAsync(Message("@harbour_news", "first", "send:1:sub:1:telegram"), CancellationToken.None);
        var second = await channel.SendAsync(Message("@harbour_news", "second", "send:2:sub:1:telegram"), CancellationToken.None);
        var gone = await channel.SendAsync(Message("@gone_channel", "hello", "send:1:sub:2:telegram"), CancellationToken.None);

        Assert.Equal(ChannelResult.Sent, first);
        Assert.Equal(ChannelResult.Sent, second);
        Assert.Equal([-1001234567890, -1001234567890], fake.Messages.Select(m => m.ChatId));
        Assert.Equal(ChannelOutcome.FailedPermanent, gone.Outcome);
        Assert.Contains("chat not found", gone.Error);
        Assert.Equal(ChannelStatus.Blocked, (await store.FindByAddressAsync(Channels.Telegram, "@gone_channel", CancellationToken.None))!.Channels.Single().Status);
        Assert.Equal(ChannelStatus.Active, (await store.FindByAddressAsync(Channels.Telegram, "@harbour_news", CancellationToken.None))!.Channels.Single().Status);
    }
}
