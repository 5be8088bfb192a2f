using NewsBot.Delivery;
using NewsBot.Feeds;
using NewsBot.Posts;
using NewsBot.Storage;
using NewsBot.Subscribers;
using NewsBot.Tests.Telegram;

using Xunit.Abstractions;

namespace NewsBot.Tests.Delivery;

/// <summary>
/// Three instances of the real binary, as child processes, on one PostgreSQL database (NewsBot's store and
/// Hangfire.PostgreSql), one outbox directory for email and the fake Bot API enforcing Telegram's 30 messages a
/// second: one send to 10,000 email subscribers and 2,000 Telegram chats.
/// </summary>
public sealed class MultiInstancePostgresqlTests(ITestOutputHelper log)
{
    private const int Instances = 3;
    private const int EmailRecipients = 10_000;
    private const int TelegramChats = 2_000;
    private const long FirstChatId = 700_000_001;

    // Bot API FAQ: "no more than 30 messages per second" (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
    private const int TelegramLimit = 30;

    [SkippableFact]
    public async Task ThreeInstancesSendEveryRowOnceWithoutA429AndWithinTelegramsRate()
    {
        await using var send = await StartSendAsync();

        await send.Instances[^1].WaitForFinishedAsync(send.SendId, TimeSpan.FromMinutes(5));

        // First: a 429 fails a row transiently, which the checks below would report less plainly.
        Assert.Equal(0, send.Fake.TooManyRequests);
        await AssertEachRowSentOnceAsync(send);
        Assert.Equal(0, await CountRowsClaimedMoreThanOnceAsync(send));
        var chats = send.Fake.Messages.Select(m => m.ChatId).ToList();
        Assert.Equal(TelegramChats, chats.Count);
        Assert.Equal(TelegramChats, chats.Distinct().Count());
        var times = send.Fake.Messages.Select(m => m.At).Order().ToList();
        var rate = (times.Count - 1) / (times[^1] - times[0]).TotalSeconds;
        var busiestSecond = times.Select((t, i) => times.Skip(i).TakeWhile(u => u - t < TimeSpan.FromSeconds(1)).Count()).Max();
        log.WriteLine($"telegram: {times.Count} messages in {(times[^1] - times[0]).TotalSeconds:F1} s, {rate:F2}/s; busiest second {busiestSecond}");
        // The mean over the whole send, with 1% for the timing of the first and last message; the fake's own
        // token bucket (30 a second) answered no 429, so no second went over.
        Assert.InRange(rate, 0, TelegramLimit * 1.01);
    }

    [SkippableFact]
    public async Task KillingAnInstanceMidSendLeavesTheOthersToFinishItsRowsAfterItsLeaseExpires()
    {
        await using var send = await StartSendAsync();
        var fake = send.Fake;
        var outbox = Path.Combine(send.Host.DataDirectory, "outbox");
        await Eventually.HoldsAsync(
            () => Task.FromResult(Directory.Exists(outbox) && Directory.EnumerateFiles(outbox, "*.eml").Count() >= EmailRecipients / 4 && fake.Messages.Count >= TelegramChats / 4),
            $"a quarter of the send out ({EmailRecipients / 4} outbox files and {TelegramChats / 4} Telegram messages)", seconds: 300);
        await send.Instances[1].KillAsync();
        var countsAtKill = await send.Services.GetRequiredService<DeliveryStore>().CountStatesAsync(send.SendId, CancellationToken.None);
        log.WriteLine($"killed {send.Instances[1].Name} with {fake.Messages.Count} Telegram messages; ledger then: {string.Join(", ", countsAtKill.Select(c => $"{c.Key} {c.Value}"))}");
        Assert.True(countsAtKill[DeliveryState.Sent] < EmailRecipients + TelegramChats, "the send finished before the kill: the test proved nothing");

        await send.Instances[2].WaitForFinishedAsync(send.SendId, TimeSpan.FromMinutes(5));

        await AssertEachRowSentOnceAsync(send);
        var chats = fake.Messages.Select(m => m.ChatId).ToList();
        Assert.Equal(TelegramChats, chats.Distinct().Count());
        // At least once, not exactly: a message Telegram accepted from the killed instance just before the kill,
        // whose row was not yet marked sent, goes again (the Bot API has no idempotency key). Each of the
        // instance's Hangfire workers (JobServices: twice the cores, at least 2) sends one message at a time,
        // so it can have one such message each in flight, no more.
        log.WriteLine($"telegram: {chats.Count} messages to {TelegramChats} chats");
        Assert.InRange(chats.Count - TelegramChats, 0, Math.Max(2, Environment.ProcessorCount * 2));
    }

    /// <summary>The fake Bot API, the seeded database, the three instances, and the send created on the first.</summary>
    private async Task<RunningSend> StartSendAsync()
    {
        var fake = await StartFakeAsync();
        var host = TestHost.Create(Db.PostgresqlProvider);
        List<ServiceProcess> instances = [];
        try
        {
            var (services, postId) = await SeedAsync(host);
            instances = await StartInstancesAsync(host, fake);
            var sendId = await instances[0].CreateSendAsync(postId, Channels.Email, Channels.Telegram);
            return new RunningSend(fake, host, services, instances, sendId);
        }
        catch
        {
            await new RunningSend(fake, host, null!, instances, 0).DisposeAsync();
            throw;
        }
    }

    private static async Task<FakeBotApi> StartFakeAsync()
    {
        TestPaths.RequirePostgres();
        var fake = await FakeBotApi.StartAsync();
        fake.MessagesPerSecond = TelegramLimit;
        fake.PerChatPerSecond = 1;
        fake.GroupMessagesPerMinute = 20;
        return fake;
    }

    /// <summary>
    /// A post (the sample feed's latest) and the subscribers, email only and Telegram only, interleaved (every sixth
    /// a chat): each dispatch chunk holds Telegram rows, so every instance sends to Telegram at the same time.
    /// </summary>
    private static async Task<(IServiceProvider Services, long PostId)> SeedAsync(TestHost host)
    {
        var services = await host.StartAsync();
        await services.GetRequiredService<FeedRefresher>().RefreshFeedAsync("sample", force: true, null, CancellationToken.None);
        var post = (await services.GetRequiredService<PostStore>().LatestAsync(1, null, CancellationToken.None))[0];
        const int every = (EmailRecipients + TelegramChats) / TelegramChats;
        await services.GetRequiredService<SubscriberStore>().SeedAsync(
            Enumerable.Range(0, EmailRecipients + TelegramChats).Select(i => i % every == every - 1
                ? new NewSubscriber(null, FirstChatId + (i / every), [], Cadence.Instant)
                : new NewSubscriber($"reader{i:D5}@example.org", null, [], Cadence.Instant)),
            CancellationToken.None);
        return (services, post.Id);
    }

    private async Task<List<ServiceProcess>> StartInstancesAsync(TestHost host, FakeBotApi fake)
    {
        var starting = Enumerable.Range(1, Instances).Select(i => ServiceProcess.StartAsync(host, log, $"instance-{i}",
            ("NewsBot__Database__Provider", Db.PostgresqlProvider),
            ("NewsBot__Database__ConnectionString", host.Configuration["NewsBot:Database:ConnectionString"]!),
            ("NewsBot__InstanceName", $"instance-{i}"),
            ("NewsBot__Delivery__LeaseDuration", "00:00:10"),
            ("NewsBot__Telegram__BotToken", FakeBotApi.DefaultToken),
            ("NewsBot__Telegram__ApiBaseUrl", fake.BaseUrl),
            ("NewsBot__Telegram__GlobalMessagesPerSecond", TelegramLimit.ToString(System.Globalization.CultureInfo.InvariantCulture)))).ToList();
        try
        {
            return [.. await Task.WhenAll(starting)];
        }
        catch
        {
            DisposeAll(starting.Where(s => s.IsCompletedSuccessfully).Select(s => s.Result));
            throw;
        }
    }

    /// <summary>Every ledger row sent, and one outbox file per email recipient.</summary>
    private static async Task AssertEachRowSentOnceAsync(RunningSend send)
    {
        var counts = await send.Services.GetRequiredService<DeliveryStore>().CountStatesAsync(send.SendId, CancellationToken.None);
        Assert.Equal(EmailRecipients + TelegramChats, counts[DeliveryState.Sent]);
        Assert.Equal(EmailRecipients + TelegramChats, counts.Values.Sum());
        var messages = Directory.EnumerateFiles(Path.Combine(send.Host.DataDirectory, "outbox"), "*.eml").ToList();
        Assert.Equal(EmailRecipients, messages.Count);
        Assert.Equal(EmailRecipients, messages.Select(ServiceProcess.ReadRecipient).Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    /// <summary>
    /// Rows claimed more than once: the outbox writes a message's file once whoever sends it, so the claim count is
    /// what shows whether two instances sent the same row.
    /// </summary>
    private static async Task<long> CountRowsClaimedMoreThanOnceAsync(RunningSend send)
    {
        await using var connection = await send.Services.GetRequiredService<Db>().OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand("SELECT COUNT(*) FROM deliveries WHERE send_id = @send_id AND attempts <> 1");
        command.AddParameter("send_id", send.SendId);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void DisposeAll(IEnumerable<ServiceProcess> instances)
    {
        foreach (var instance in instances)
        {
            instance.Dispose();
        }
    }

    private sealed record RunningSend(FakeBotApi Fake, TestHost Host, IServiceProvider Services, List<ServiceProcess> Instances, long SendId)
        : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            DisposeAll(Instances);
            Host.Dispose();
            await Fake.DisposeAsync();
        }
    }
}
