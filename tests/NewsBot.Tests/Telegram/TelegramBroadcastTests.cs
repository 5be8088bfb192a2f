using Hangfire;

using NewsBot.Delivery;
using NewsBot.Posts;
using NewsBot.Subscribers;
using NewsBot.Telegram;
using NewsBot.Tests.Admin;

namespace NewsBot.Tests.Telegram;

/// <summary>
/// Configured Telegram channels through the real service: a new post reaches each channel of its topics once, by
/// the same poll, announce, ledger and lane as a subscriber's, without personal links.
/// </summary>
public sealed class TelegramBroadcastTests : IAsyncLifetime
{
    private const long Harbour = -1001234567890;
    private const long Nuclear = -1005550001111;
    private const long LockedOut = -1007770002222;
    private const long Reader = 1001;

    private readonly HarbourFeed feed = new();
    private FakeBotApi fake = null!;
    private ServiceUnderTest service = null!;

    public async Task InitializeAsync()
    {
        fake = await FakeBotApi.StartAsync();
        fake.AddChannel(Harbour, "harbour_news");
        fake.SetMember(Harbour, fake.BotId, "administrator");
        fake.AddChannel(Nuclear, "nuclear_watch");
        fake.SetMember(Nuclear, fake.BotId, "administrator");
        // The bot was never made an admin here: Telegram refuses its posts with 403.
        fake.AddChannel(LockedOut, "locked_out");
        service = await ServiceUnderTest.StartAsync(
            [.. feed.Settings,
            ("NewsBot:Telegram:BotToken", FakeBotApi.DefaultToken),
            ("NewsBot:Telegram:ApiBaseUrl", fake.BaseUrl),
            ("NewsBot:Telegram:PerChatInterval", "00:00:00.050"),
            ("NewsBot:Telegram:Channels:0:Chat", "@harbour_news"),
            ("NewsBot:Telegram:Channels:0:Topics:0", "sanctions"),
            ("NewsBot:Telegram:Channels:1:Chat", "@Nuclear_Watch"),
            ("NewsBot:Telegram:Channels:1:Topics:0", "nuclear"),
            ("NewsBot:Telegram:Channels:2:Chat", LockedOut.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
    }

    public async Task DisposeAsync()
    {
        await service.DisposeAsync();
        await fake.DisposeAsync();
        feed.Dispose();
    }

    [Fact]
    public async Task ANewPostReachesEachChannelOfItsTopicExactlyOnceWithoutPersonalLinks()
    {
        var posts = service.Services.GetRequiredService<PostStore>();
        await Eventually.HoldsAsync(async () => await posts.CountAsync(CancellationToken.None) == 2, "the first poll stored the feed's 2 posts");
        var subscribers = service.Services.GetRequiredService<SubscriberStore>();
        await subscribers.AddAsync(new NewSubscriber(null, Reader, ["sanctions"], Cadence.Instant), CancellationToken.None);

        feed.Publish(HarbourFeed.EmbargoEntry);
        var jobs = service.Services.GetRequiredService<IRecurringJobManager>();
        jobs.Trigger("poll-feed:harbour");
        await Eventually.HoldsAsync(async () => fake.Messages.Any(m => m.ChatId == Harbour) && fake.Messages.Any(m => m.ChatId == Reader)
            && (await subscribers.FindByAddressAsync(Channels.Telegram, LockedOut.ToString(System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None))!
                .Channels.Single().Status == ChannelStatus.Blocked,
            "the sanctions channel and reader got the post, and the channel that refuses the bot is marked blocked");
        // A second poll of the unchanged feed, and time for any stray duplicate to arrive.
        jobs.Trigger("poll-feed:harbour");
        await Task.Delay(1500);

        var received = fake.Messages.ToList();
        var channelMessage = Assert.Single(received, m => m.ChatId == Harbour);
        var readerMessage = Assert.Single(received, m => m.ChatId == Reader);
        Assert.DoesNotContain(received, m => m.ChatId is Nuclear or LockedOut);
        Assert.Contains("Embargo <Widens> & Tankers Wait 🚢", channelMessage.Plain);
        Assert.Contains("/preferences?t=", readerMessage.Text);
        Assert.DoesNotContain("preferences", channelMessage.Text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("unsubscribe", channelMessage.Text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("?t=", channelMessage.Text);
        Assert.DoesNotContain("newsbot.invalid", channelMessage.Text);
        Assert.StartsWith(channelMessage.Plain.TrimEnd(), readerMessage.Plain, StringComparison.Ordinal);

        var deliveries = service.Services.GetRequiredService<DeliveryStore>();
        var send = Assert.Single(await deliveries.ListLatestSendsAsync(10, CancellationToken.None));
        var states = await deliveries.CountStatesAsync(send.Id, CancellationToken.None);
        Assert.Equal(2, states.GetValueOrDefault(DeliveryState.Sent));
        Assert.Equal(1, states.GetValueOrDefault(DeliveryState.FailedPermanent));
        Assert.Contains("not a member of the channel", Assert.Single(await deliveries.ListErrorsAsync(send.Id, 10, CancellationToken.None)).Error);
        Assert.Equal(0, fake.TooManyRequests);
    }

    [Fact]
    public async Task TheStartCheckSaysWhichChannelsTheBotCannotPostIn()
    {
        var channel = service.Services.GetRequiredService<TelegramChannel>();

        Assert.Null(await channel.CheckPostRightsAsync("@harbour_news", CancellationToken.None));
        Assert.Null(await channel.CheckPostRightsAsync(Nuclear.ToString(System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None));
        Assert.Contains("not an administrator allowed to post", await channel.CheckPostRightsAsync("@locked_out", CancellationToken.None));
        Assert.Contains("chat not found", await channel.CheckPostRightsAsync("@nobody_here", CancellationToken.None));
    }

    [Fact]
    public async Task ConfiguredChannelsAreBroadcastSubscribersAndARemovedOneIsDeactivated()
    {
        var subscribers = service.Services.GetRequiredService<SubscriberStore>();
        var harbour = (await subscribers.FindByAddressAsync(Channels.Telegram, "@harbour_news", CancellationToken.None))!;
        Assert.True(harbour.Broadcast);
        Assert.Equal(["sanctions"], harbour.Topics);
        Assert.Equal(Cadence.Instant, harbour.Cadence);
        Assert.NotNull(await subscribers.FindByAddressAsync(Channels.Telegram, "@nuclear_watch", CancellationToken.None));

        // The same database, started again with only the first channel configured.
        var result = await subscribers.SyncBroadcastsAsync([new BroadcastTarget("@harbour_news", ["sanctions"])], CancellationToken.None);

        Assert.Equal(new BroadcastSyncResult(0, 1, 2), result);
        var nuclear = (await subscribers.FindByAddressAsync(Channels.Telegram, "@nuclear_watch", CancellationToken.None))!;
        Assert.Equal(ChannelStatus.Unsubscribed, nuclear.Channels.Single().Status);
    }
}
