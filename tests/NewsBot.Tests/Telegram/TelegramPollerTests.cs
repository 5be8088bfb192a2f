using NewsBot.Storage;
using NewsBot.Telegram;
using NewsBot.Tests.Admin;

namespace NewsBot.Tests.Telegram;

/// <summary>
/// Two instances of one deployment (two services on one database) with one bot token: one long-polls, the other
/// stands by, so Telegram never cuts a poll short with 409; when the poller stops, the other takes over.
/// </summary>
public sealed class TelegramPollerTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task OneInstancePollsAtATime_AndAnotherTakesOverWhenItStops()
    {
        await using var fake = await FakeBotApi.StartAsync();
        using var host = TestHost.Create(
            ("NewsBot:Telegram:BotToken", FakeBotApi.DefaultToken),
            ("NewsBot:Telegram:ApiBaseUrl", fake.BaseUrl),
            ("NewsBot:Telegram:PollTimeout", "00:00:01"),
            ("NewsBot:Telegram:PerChatInterval", "00:00:00.050"));
        host.Configuration["NewsBot:InstanceName"] = "first";
        var first = await ServiceUnderTest.StartOnAsync(host);
        host.Configuration["NewsBot:InstanceName"] = "second";
        await using var second = await ServiceUnderTest.StartOnAsync(host);
        var roles = second.Services.GetRequiredService<InstanceRoles>();
        try
        {
            await Eventually.HoldsAsync(async () => await roles.FindHolderAsync(TelegramBot.PollerRole, Ct) is not null, "an instance polling");
            var holder = await roles.FindHolderAsync(TelegramBot.PollerRole, Ct);

            for (var chat = 1; chat <= 20; chat++)
            {
                fake.EnqueueMessage(chat, "/help");
            }

            await Eventually.HoldsAsync(() => Task.FromResult(fake.Messages.Select(m => m.ChatId).Distinct().Count() == 20), "a reply in each of 20 chats");
            // Both instances had several poll rounds meanwhile (1 s long polls): none ran beside another.
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.Equal(0, fake.PollConflicts);
            Assert.Equal(20, fake.Messages.Count);
            Assert.Equal(holder, await roles.FindHolderAsync(TelegramBot.PollerRole, Ct));

            // The poller stops cleanly: it hands over, and the other instance answers the next command.
            var poller = holder == "first" ? first : second;
            await poller.DisposeAsync();
            var remaining = holder == "first" ? second : first;
            fake.EnqueueMessage(21, "/help");

            await Eventually.HoldsAsync(() => Task.FromResult(fake.Messages.Any(m => m.ChatId == 21)), "the other instance answering after the poller stopped");
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(21, fake.Messages.Count);
            Assert.Equal(holder == "first" ? "second" : "first",
                await remaining.Services.GetRequiredService<InstanceRoles>().FindHolderAsync(TelegramBot.PollerRole, Ct));
        }
        finally
        {
            await first.DisposeAsync();
        }
    }
}
