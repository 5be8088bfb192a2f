using NewsBot.Storage;
using NewsBot.Subscribers;
using NewsBot.Tests.Posts;
using NewsBot.Tests.Storage;

namespace NewsBot.Tests.Subscribers;

/// <summary>The configured Telegram channels become broadcast subscribers, and leave when taken out of the configuration.</summary>
public abstract class BroadcastSyncTests(string provider) : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly TempDatabase _temp = new(provider);
    private readonly ManualTime _time = new(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));

    public void Dispose() => _temp.Dispose();

    private async Task<SubscriberStore> CreateStoreAsync() => new(await _temp.OpenMigratedAsync(), _time);

    private static async Task<List<Recipient>> TelegramRecipientsAsync(SubscriberStore store, IReadOnlyList<string>? topics)
    {
        var recipients = new List<Recipient>();
        await foreach (var recipient in store.StreamRecipientsAsync(new RecipientFilter([Channels.Telegram], Cadence.Instant, topics), 100, Ct))
        {
            recipients.Add(recipient);
        }

        return recipients;
    }

    [SkippableFact]
    public async Task ConfiguredChannelsBecomeInstantBroadcastRecipientsOfTheirTopics()
    {
        var store = await CreateStoreAsync();
        var reader = await store.AddAsync(new NewSubscriber(null, 501, ["sanctions"], Cadence.Instant), Ct);

        var result = await store.SyncBroadcastsAsync(
            [new BroadcastTarget("@Harbour_News", ["Sanctions"]), new BroadcastTarget("-1009876543210", [])], Ct);

        Assert.Equal(new BroadcastSyncResult(2, 0, 0), result);
        var sanctions = await TelegramRecipientsAsync(store, ["sanctions"]);
        Assert.Equal(["501", "@harbour_news", "-1009876543210"], sanctions.Select(r => r.Address));
        Assert.Equal([false, true, true], sanctions.Select(r => r.Broadcast));
        Assert.Equal(["-1009876543210"], (await TelegramRecipientsAsync(store, ["nuclear"])).Select(r => r.Address));
        var channel = (await store.FindByAddressAsync(Channels.Telegram, "@HARBOUR_NEWS", Ct))!;
        Assert.True(channel.Broadcast);
        Assert.Equal(["sanctions"], channel.Topics);
        Assert.False((await store.GetAsync(reader, Ct))!.Broadcast);
    }

    [SkippableFact]
    public async Task ASecondSyncKeepsTheRowsAndDeactivatesAChannelNoLongerConfigured()
    {
        var store = await CreateStoreAsync();
        await store.SyncBroadcastsAsync([new BroadcastTarget("@harbour_news", ["sanctions"]), new BroadcastTarget("@nuclear_watch", [])], Ct);
        var id = (await store.FindByAddressAsync(Channels.Telegram, "@harbour_news", Ct))!.Id;

        var result = await store.SyncBroadcastsAsync([new BroadcastTarget("@harbour_news", ["nuclear"])], Ct);

        Assert.Equal(new BroadcastSyncResult(0, 1, 1), result);
        var kept = (await store.FindByAddressAsync(Channels.Telegram, "@harbour_news", Ct))!;
        Assert.Equal(id, kept.Id);
        Assert.Equal(["nuclear"], kept.Topics);
        Assert.Equal(ChannelStatus.Unsubscribed, Assert.Single((await store.FindByAddressAsync(Channels.Telegram, "@nuclear_watch", Ct))!.Channels).Status);
        Assert.Equal(["@harbour_news"], (await TelegramRecipientsAsync(store, null)).Select(r => r.Address));

        // Configured again: the same row comes back.
        Assert.Equal(new BroadcastSyncResult(0, 2, 0), await store.SyncBroadcastsAsync(
            [new BroadcastTarget("@harbour_news", ["nuclear"]), new BroadcastTarget("@nuclear_watch", [])], Ct));
        Assert.Equal(2, (await TelegramRecipientsAsync(store, null)).Count);
    }

    [SkippableFact]
    public async Task AGroupThatSubscribedItselfIsTakenOverByTheConfigurationAndABlockedChannelIsTriedAgain()
    {
        var store = await CreateStoreAsync();
        var group = await store.AddAsync(new NewSubscriber(null, -1001112223334, ["nuclear"], Cadence.Daily), Ct);
        await store.SyncBroadcastsAsync([new BroadcastTarget("@harbour_news", [])], Ct);
        await store.SetChannelStatusAsync(Channels.Telegram, "@harbour_news", ChannelStatus.Blocked, Ct);

        var result = await store.SyncBroadcastsAsync([new BroadcastTarget("-1001112223334", ["sanctions"]), new BroadcastTarget("@harbour_news", [])], Ct);

        Assert.Equal(new BroadcastSyncResult(0, 2, 0), result);
        var taken = (await store.GetAsync(group, Ct))!;
        Assert.True(taken.Broadcast);
        Assert.Equal(Cadence.Instant, taken.Cadence);
        Assert.Equal(["sanctions"], taken.Topics);
        Assert.Equal(ChannelStatus.Active, Assert.Single((await store.FindByAddressAsync(Channels.Telegram, "@harbour_news", Ct))!.Channels).Status);
    }

    [SkippableTheory]
    [InlineData("harbour_news", "is not a chat id")]
    [InlineData("@abc", "is not a chat id")]
    [InlineData("@9harbour", "is not a chat id")]
    [InlineData("0", "is not a chat id")]
    public async Task ABadAddressIsRefusedNamingIt(string address, string expected)
    {
        var store = await CreateStoreAsync();

        var error = await Assert.ThrowsAsync<SubscriberException>(() => store.SyncBroadcastsAsync([new BroadcastTarget(address, [])], Ct));

        Assert.Contains($"'{address}'", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.Equal(0, await store.CountAsync(Ct));
    }

    [SkippableFact]
    public async Task AUsernameInAnImportFileIsRefusedOnItsLine()
    {
        var store = await CreateStoreAsync();

        var result = await store.ImportCsvAsync(new StringReader("telegram,topics\n501,sanctions\n@harbour_news,\n"), Ct);

        Assert.Equal(1, result.Imported);
        Assert.Equal("line 3: telegram '@harbour_news' is a username: a reader's chat is its numeric id (only NewsBot:Telegram:Channels takes @usernames)", Assert.Single(result.Errors));
    }
}

public sealed class BroadcastSyncSqliteTests() : BroadcastSyncTests(Db.SqliteProvider);

public sealed class BroadcastSyncPostgresqlTests() : BroadcastSyncTests(Db.PostgresqlProvider);
