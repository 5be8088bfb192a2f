using NewsBot.Feeds;
using NewsBot.Subscribers;
using NewsBot.Tests.Admin;

namespace NewsBot.Tests.Telegram;

/// <summary>
/// A group subscribes like a person, but only by its admins: the real service asks the fake Bot API getChatMember
/// for the sender, and a message of an anonymous admin (sender_chat is the group) counts as an admin's.
/// </summary>
public sealed class GroupSubscriptionTests : IAsyncLifetime
{
    private const long Admin = 42;
    private const long Member = 43;

    private BotUnderTest bot = null!;

    public async Task InitializeAsync() => bot = await BotUnderTest.StartAsync();

    public async Task DisposeAsync() => await bot.DisposeAsync();

    private async Task<FakeBotApi.AcceptedMessage> ReplyToAsync(long chatId, Func<long> send)
    {
        var before = bot.Fake.Messages.Count(m => m.ChatId == chatId);
        send();
        for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            var replies = bot.Fake.Messages.Where(m => m.ChatId == chatId).ToList();
            if (replies.Count > before)
            {
                return replies[before];
            }
        }

        throw new TimeoutException($"no reply in chat {chatId} within 20 s");
    }

    private Task<Subscriber?> FindAsync(long chatId) => bot.Service.Services.GetRequiredService<SubscriberStore>()
        .FindByAddressAsync(Channels.Telegram, chatId.ToString(System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None);

    [Fact]
    public async Task AGroupAdminSubscribesTheGroupToATopic()
    {
        const long group = -1002000000001;
        bot.Fake.SetMember(group, Admin, "administrator");

        var reply = await ReplyToAsync(group, () => bot.Fake.EnqueueMessage(group, Admin, "/subscribe sanctions"));

        Assert.Contains("Subscribed to sanctions", reply.Plain);
        var subscriber = (await FindAsync(group))!;
        Assert.Equal(["sanctions"], subscriber.Topics);
        Assert.Equal(ChannelStatus.Active, subscriber.Channels.Single().Status);
        Assert.False(subscriber.Broadcast);
    }

    [Fact]
    public async Task TheGroupsCreatorCountsAsAnAdmin()
    {
        const long group = -4001;
        bot.Fake.SetMember(group, Admin, "creator");

        var reply = await ReplyToAsync(group, () => bot.Fake.EnqueueMessage(group, Admin, "/subscribe all"));

        Assert.Contains("every topic", reply.Plain);
        Assert.Empty((await FindAsync(group))!.Topics);
    }

    [Fact]
    public async Task AMemberWhoIsNoAdminIsRefusedAndTheGroupStaysUnsubscribed()
    {
        const long group = -1002000000002;
        bot.Fake.SetMember(group, Admin, "administrator");

        var refusal = await ReplyToAsync(group, () => bot.Fake.EnqueueMessage(group, Member, "/subscribe sanctions"));
        var latest = await ReplyToAsync(group, () => bot.Fake.EnqueueMessage(group, Member, "/latest 2"));

        Assert.Contains("only a chat admin", refusal.Plain);
        Assert.Null(await FindAsync(group));
        // Reading commands stay open to every member.
        Assert.Equal(2, latest.Text.Split("<a href=", StringSplitOptions.None).Length - 1);
    }

    [Fact]
    public async Task AnAnonymousAdminSubscribesTheGroup()
    {
        const long group = -1002000000003;

        var reply = await ReplyToAsync(group, () => bot.Fake.EnqueueAnonymousAdminMessage(group, "/subscribe nuclear"));

        Assert.Contains("Subscribed to nuclear", reply.Plain);
        Assert.Equal(["nuclear"], (await FindAsync(group))!.Topics);
    }

    [Fact]
    public async Task AGroupConfiguredAsABroadcastChannelKeepsItsConfiguredTopics()
    {
        const long group = -1002000000004;
        bot.Fake.SetMember(group, Admin, "administrator");
        await bot.Service.Services.GetRequiredService<SubscriberStore>().SyncBroadcastsAsync(
            [new BroadcastTarget(group.ToString(System.Globalization.CultureInfo.InvariantCulture), ["sanctions"])], CancellationToken.None);

        var reply = await ReplyToAsync(group, () => bot.Fake.EnqueueMessage(group, Admin, "/subscribe nuclear"));

        Assert.Contains("NewsBot:Telegram:Channels", reply.Plain);
        Assert.Equal(["sanctions"], (await FindAsync(group))!.Topics);
    }
}
