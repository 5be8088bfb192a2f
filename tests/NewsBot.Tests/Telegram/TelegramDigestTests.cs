using System.Globalization;
using System.Text.RegularExpressions;

using NewsBot.Delivery;
using NewsBot.Subscribers;
using NewsBot.Templates;
using NewsBot.Tests.Delivery;

namespace NewsBot.Tests.Telegram;

/// <summary>
/// A digest too long for one Telegram message, planned and dispatched through the ledger to the fake Bot API: it
/// goes out as several messages, each accepted on its own, every post once, in order, and a retried dispatch sends
/// only the parts not sent yet.
/// </summary>
public sealed partial class TelegramDigestTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly DateTimeOffset Since = DateTimeOffset.UtcNow.AddDays(-1);

    private FakeBotApi fake = null!;
    private DeliveryHarness harness = null!;

    public async Task InitializeAsync()
    {
        fake = await FakeBotApi.StartAsync();
        harness = await DeliveryHarness.CreateAsync(
            ("NewsBot:Telegram:BotToken", fake.Token),
            ("NewsBot:Telegram:ApiBaseUrl", fake.BaseUrl),
            ("NewsBot:Telegram:PerChatInterval", "00:00:00.010"));
    }

    public async Task DisposeAsync()
    {
        harness.Dispose();
        await fake.DisposeAsync();
    }

    [GeneratedRegex(@"Sanctions briefing (\d+)")]
    private static partial Regex PostTitle();

    [GeneratedRegex(@"digest, [^\n]* \((\d+)/(\d+)\)\n")]
    private static partial Regex PartHeader();

    private Task<SendPlan> PlanDigestAsync() =>
        harness.Planner.PlanAsync(new SendRequest("digest", null, Cadence.Daily, [Channels.Telegram], null, false, Since: Since), Ct);

    /// <summary>The messages one chat got, in the order the fake accepted them.</summary>
    private List<FakeBotApi.AcceptedMessage> MessagesTo(long chatId) =>
        [.. fake.Messages.Where(m => m.ChatId == chatId).OrderBy(m => m.MessageId)];

    private static List<int> PostNumbers(IEnumerable<FakeBotApi.AcceptedMessage> messages) =>
        [.. messages.SelectMany(m => PostTitle().Matches(m.Plain)).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))];

    [Fact]
    public async Task ADigestOf30LongPostsGoesOutInPartsEachAcceptedWithEveryPostOnceInOrder()
    {
        await harness.SeedAsync(
            new NewSubscriber(null, 5001, ["sanctions"], Cadence.Daily),
            new NewSubscriber(null, 5002, [], Cadence.Daily));
        await harness.AddLongPostsAsync(30);

        var plan = await PlanDigestAsync();
        var failures = await harness.RunDispatchesAsync();

        Assert.Equal(0, failures);
        Assert.Equal(2, plan.Audience[Channels.Telegram]);
        var parts = plan.Messages / 2;
        Assert.InRange(parts, 2, TemplateRenderer.TelegramMaxDigestParts);
        var counts = await harness.Store.CountStatesAsync(plan.SendId!.Value, Ct);
        Assert.Equal(plan.Messages, counts[DeliveryState.Sent]);
        Assert.Equal(plan.Messages, await harness.CountAsync("SELECT COUNT(DISTINCT idempotency_key) FROM deliveries"));
        foreach (var chat in (long[])[5001, 5002])
        {
            var received = MessagesTo(chat);
            Assert.Equal(parts, received.Count);
            // The fake accepted each: Telegram's HTML subset, balanced, at most 4,096 characters after entity parsing.
            Assert.All(received, m => Assert.InRange(m.Plain.Length, 1, FakeBotApi.MaxTextLength));
            Assert.Equal(Enumerable.Range(1, parts), received.Select(m => int.Parse(PartHeader().Match(m.Plain).Groups[1].Value, CultureInfo.InvariantCulture)));
            Assert.All(received, m => Assert.Equal(parts.ToString(CultureInfo.InvariantCulture), PartHeader().Match(m.Plain).Groups[2].Value));
            Assert.Equal(Enumerable.Range(1, 30), PostNumbers(received));
            Assert.All(received, m => Assert.Contains("tariffs < 5% 🚢", m.Plain));
        }

        Assert.Equal(0, fake.TooManyRequests);
    }

    [Fact]
    public async Task ADispatchRetriedAfterPart1WasSentSendsOnlyTheRemainingParts()
    {
        await harness.SeedAsync(new NewSubscriber(null, 6001, ["sanctions"], Cadence.Daily));
        await harness.AddLongPostsAsync(30);
        var plan = await PlanDigestAsync();
        var sendId = plan.SendId!.Value;
        var telegram = harness.Services.GetServices<IChannel>().Last(c => c.Name == Channels.Telegram);
        var (_, first, last) = Assert.Single(harness.DispatchRanges());

        // Part 1 goes out, then the Bot API fails: part 2 fails transiently, the later parts wait for it.
        var flaky = new FailingAfterChannel(telegram, succeed: 1);
        await Assert.ThrowsAsync<DeliveryRetryException>(() => harness.Dispatcher(flaky).DispatchAsync(sendId, first, last, Ct));
        var afterFailure = await harness.Store.CountStatesAsync(sendId, Ct);
        var held = await harness.CountAsync($"SELECT COUNT(*) FROM deliveries WHERE last_error = '{DispatchJob.HeldError}'");
        // Hangfire's retry of the same chunk.
        await harness.Dispatcher(telegram).DispatchAsync(sendId, first, last, Ct);

        Assert.Equal(2, flaky.Calls);
        Assert.Equal((1, plan.Messages - 1), (afterFailure[DeliveryState.Sent], afterFailure[DeliveryState.FailedTransient]));
        Assert.Equal(plan.Messages - 2, held);
        var received = MessagesTo(6001);
        Assert.Equal(plan.Messages, received.Count);
        Assert.Equal(Enumerable.Range(1, plan.Messages), received.Select(m => int.Parse(PartHeader().Match(m.Plain).Groups[1].Value, CultureInfo.InvariantCulture)));
        Assert.Equal(Enumerable.Range(1, 30), PostNumbers(received));
        Assert.Equal(plan.Messages, (await harness.Store.CountStatesAsync(sendId, Ct))[DeliveryState.Sent]);
        Assert.NotNull((await harness.Store.GetSendAsync(sendId, Ct))!.FinishedAt);
    }

    /// <summary>Passes the first <paramref name="succeed"/> messages to the real channel, then fails each transiently, as a Bot API outage would.</summary>
    private sealed class FailingAfterChannel(IChannel inner, int succeed) : IChannel
    {
        public int Calls { get; private set; }

        public string Name => inner.Name;

        public double MessagesPerSecond => inner.MessagesPerSecond;

        public Task<ChannelResult> SendAsync(OutgoingMessage message, CancellationToken ct) =>
            ++Calls <= succeed
                ? inner.SendAsync(message, ct)
                : Task.FromResult(new ChannelResult(ChannelOutcome.FailedTransient, "502: Bad Gateway"));
    }
}
