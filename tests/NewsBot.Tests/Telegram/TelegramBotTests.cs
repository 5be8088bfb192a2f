using System.Text.Json.Nodes;

using NewsBot.Feeds;
using NewsBot.Subscribers;
using NewsBot.Tests.Admin;

namespace NewsBot.Tests.Telegram;

/// <summary>The real service with a bot token, long polling the fake Bot API: commands in, replies out.</summary>
public sealed class TelegramBotTests : IAsyncLifetime
{
    private FakeBotApi fake = null!;
    private ServiceUnderTest service = null!;

    public async Task InitializeAsync()
    {
        fake = await FakeBotApi.StartAsync();
        service = await ServiceUnderTest.StartAsync(
            ("NewsBot:Telegram:BotToken", FakeBotApi.DefaultToken),
            ("NewsBot:Telegram:ApiBaseUrl", fake.BaseUrl),
            ("NewsBot:Telegram:PollTimeout", "00:00:01"),
            ("NewsBot:Telegram:PerChatInterval", "00:00:00.050"));
        await service.Services.GetRequiredService<FeedRefresher>().RefreshFeedAsync("sample", force: true, null, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await service.DisposeAsync();
        await fake.DisposeAsync();
    }

    private async Task<FakeBotApi.AcceptedMessage> ReplyToAsync(long chatId, string text)
    {
        var before = fake.Messages.Count(m => m.ChatId == chatId);
        fake.EnqueueMessage(chatId, text);
        for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            var replies = fake.Messages.Where(m => m.ChatId == chatId).ToList();
            if (replies.Count > before)
            {
                return replies[before];
            }
        }

        throw new TimeoutException($"no reply to '{text}' in chat {chatId} within 20 s");
    }

    [Fact]
    public async Task LatestAndTopicAreAnsweredThroughTheBotApi()
    {
        var latest = await ReplyToAsync(555, "/latest 3");
        var topic = await ReplyToAsync(555, "/topic sanctions");

        Assert.Equal(3, latest.Text.Split("<a href=", StringSplitOptions.None).Length - 1);
        Assert.Contains("anction", topic.Plain);
        Assert.NotNull(fake.Commands);
        Assert.Contains("latest", fake.Commands);
    }

    [Fact]
    public async Task StartSubscribesTheChatAndBlockingTheBotMarksItBlocked()
    {
        await ReplyToAsync(777, "/start");
        var store = service.Services.GetRequiredService<SubscriberStore>();
        Assert.Equal(ChannelStatus.Active, Assert.Single((await store.FindByAddressAsync(Channels.Telegram, "777", CancellationToken.None))!.Channels).Status);

        fake.EnqueueUpdate(new JsonObject
        {
            ["my_chat_member"] = new JsonObject
            {
                ["chat"] = new JsonObject { ["id"] = 777, ["type"] = "private" },
                ["from"] = new JsonObject { ["id"] = 777, ["is_bot"] = false, ["first_name"] = "Reader" },
                ["date"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                ["old_chat_member"] = new JsonObject { ["status"] = "member", ["user"] = new JsonObject { ["id"] = 1, ["is_bot"] = true, ["first_name"] = "NewsBot" } },
                ["new_chat_member"] = new JsonObject { ["status"] = "kicked", ["until_date"] = 0, ["user"] = new JsonObject { ["id"] = 1, ["is_bot"] = true, ["first_name"] = "NewsBot" } },
            },
        });

        for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            var status = Assert.Single((await store.FindByAddressAsync(Channels.Telegram, "777", CancellationToken.None))!.Channels).Status;
            if (status == ChannelStatus.Blocked)
            {
                return;
            }
        }

        Assert.Fail("my_chat_member 'kicked' did not mark the chat blocked within 20 s");
    }
}
