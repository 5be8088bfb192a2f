using Hangfire;

using NewsBot.Posts;
using NewsBot.Subscribers;
using NewsBot.Tests.Admin;

namespace NewsBot.Tests.Telegram;

/// <summary>Ingestion to Telegram through the real service: a new post reaches each subscriber of its topics once.</summary>
public sealed class TelegramDeliveryTests : IAsyncLifetime
{
    private readonly HarbourFeed feed = new();
    private FakeBotApi fake = null!;
    private ServiceUnderTest service = null!;

    public async Task InitializeAsync()
    {
        fake = await FakeBotApi.StartAsync();
        service = await ServiceUnderTest.StartAsync(
            [.. feed.Settings,
            ("NewsBot:Telegram:BotToken", FakeBotApi.DefaultToken),
            ("NewsBot:Telegram:ApiBaseUrl", fake.BaseUrl),
            ("NewsBot:Telegram:PerChatInterval", "00:00:00.050")]);
    }

    public async Task DisposeAsync()
    {
        await service.DisposeAsync();
        await fake.DisposeAsync();
        feed.Dispose();
    }

    [Fact]
    public async Task NewPostsReachEachSubscriberOfTheirTopicsExactlyOnce()
    {
        var posts = service.Services.GetRequiredService<PostStore>();
        await Eventually.HoldsAsync(async () => await posts.CountAsync(CancellationToken.None) == 2, "the first poll stored the feed's 2 posts");
        var subscribers = service.Services.GetRequiredService<SubscriberStore>();
        await subscribers.AddAsync(new NewSubscriber(null, 1001, ["sanctions"], Cadence.Instant), CancellationToken.None);
        await subscribers.AddAsync(new NewSubscriber(null, 1002, ["nuclear"], Cadence.Instant), CancellationToken.None);
        await subscribers.AddAsync(new NewSubscriber(null, 1003, [], Cadence.Instant), CancellationToken.None);
        await subscribers.AddAsync(new NewSubscriber(null, 1004, ["sanctions"], Cadence.Daily), CancellationToken.None);

        // A 10,000-character post: the message carries its summary and link, within Telegram's 4,096 characters.
        var longPost = $"""
              <entry>
                <id>tag:blogger.com,1999:blog-1111222233334444.post-7000</id>
                <published>2024-07-09T09:00:00.000+09:00</published>
                <title type='text'>The Long Read on Sanctions</title>
                <content type='html'>&lt;p&gt;{string.Concat(Enumerable.Repeat("Sanctions bite slowly. ", 435))}&lt;/p&gt;</content>
              </entry>
            """;
        feed.Publish(longPost + HarbourFeed.EmbargoEntry);
        service.Services.GetRequiredService<IRecurringJobManager>().Trigger("poll-feed:harbour");
        await Eventually.HoldsAsync(() => Task.FromResult(fake.Messages.Count(m => m.ChatId == 1001) == 2 && fake.Messages.Count(m => m.ChatId == 1003) == 2), "the instant subscribers got both posts");
        // A second poll of the unchanged feed, and time for any stray duplicate to arrive.
        service.Services.GetRequiredService<IRecurringJobManager>().Trigger("poll-feed:harbour");
        await Task.Delay(1500);

        var received = fake.Messages.ToList();
        Assert.Equal(2, received.Count(m => m.ChatId == 1001));
        Assert.Equal(2, received.Count(m => m.ChatId == 1003));
        Assert.Contains(received, m => m.ChatId == 1003 && m.Plain.Contains("The Long Read on Sanctions", StringComparison.Ordinal) && m.Plain.Length <= 4096);
        Assert.DoesNotContain(received, m => m.ChatId is 1002 or 1004);
        Assert.Contains(received, m => m.ChatId == 1001 && m.Plain.Contains("Embargo <Widens> & Tankers Wait 🚢", StringComparison.Ordinal));
        Assert.Equal(0, fake.TooManyRequests);
    }
}
