using System.Text.Json.Nodes;

using NewsBot.Feeds;
using NewsBot.Subscribers;
using NewsBot.Tests.Admin;

namespace NewsBot.Tests.Telegram;

/// <summary>The real service with a bot token, long polling the fake Bot API: commands in, replies out.</summary>
public sealed class TelegramBotTests : IAsyncLifetime
{
    private BotUnderTest bot = null!;

    public async Task InitializeAsync() => bot = await BotUnderTest.StartAsync();

    public async Task DisposeAsync() => await bot.DisposeAsync();

    private async Task<FakeBotApi.AcceptedMessage> ReplyToAsync(long chatId, string text)
    {
        var before = bot.Fake.Messages.Count(m => m.ChatId == chatId);
        bot.Fake.EnqueueMessage(chatId, text);
        for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            var replies = bot.Fake.Messages.Where(m => m.ChatId == chatId).ToList();
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
        Assert.NotNull(bot.Fake.Commands);
        Assert.Contains("latest", bot.Fake.Commands);
    }

    [Fact]
    public async Task StartSubscribesTheChatAndBlockingTheBotMarksItBlocked()
    {
        await ReplyToAsync(777, "/start");
        var store = bot.Service.Services.GetRequiredService<SubscriberStore>();
        Assert.Equal(ChannelStatus.Active, Assert.Single((await store.FindByAddressAsync(Channels.Telegram, "777", CancellationToken.None))!.Channels).Status);

        bot.Fake.EnqueueUpdate(new JsonObject
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
