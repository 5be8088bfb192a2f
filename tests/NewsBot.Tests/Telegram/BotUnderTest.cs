using Microsoft.Extensions.DependencyInjection;

using NewsBot.Feeds;
using NewsBot.Tests.Admin;

namespace NewsBot.Tests.Telegram;

/// <summary>The real service with a bot token, long polling the fake Bot API, the sample feed stored.</summary>
public sealed class BotUnderTest : IAsyncDisposable
{
    private BotUnderTest(FakeBotApi fake, ServiceUnderTest service)
    {
        Fake = fake;
        Service = service;
    }

    public FakeBotApi Fake { get; }

    public ServiceUnderTest Service { get; }

    public static async Task<BotUnderTest> StartAsync()
    {
        var fake = await FakeBotApi.StartAsync();
        var service = await ServiceUnderTest.StartAsync(
            ("NewsBot:Telegram:BotToken", FakeBotApi.DefaultToken),
            ("NewsBot:Telegram:ApiBaseUrl", fake.BaseUrl),
            ("NewsBot:Telegram:PollTimeout", "00:00:01"),
            ("NewsBot:Telegram:PerChatInterval", "00:00:00.050"));
        await service.Services.GetRequiredService<FeedRefresher>().RefreshFeedAsync("sample", force: true, null, CancellationToken.None);
        return new BotUnderTest(fake, service);
    }

    public async ValueTask DisposeAsync()
    {
        await Service.DisposeAsync();
        await Fake.DisposeAsync();
    }
}
