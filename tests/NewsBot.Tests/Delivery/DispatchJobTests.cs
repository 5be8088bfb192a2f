using Hangfire;

using NewsBot.Delivery;
using NewsBot.Storage;
using NewsBot.Subscribers;
using NewsBot.Tests.Posts;

namespace NewsBot.Tests.Delivery;

public abstract class DispatchJobTests(string provider) : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private DeliveryHarness? _harness;

    public void Dispose() => _harness?.Dispose();

    [SkippableFact]
    public async Task DispatchAsync_SendsEachRowOnce_AndARerunSendsNothing()
    {
        var h = await CreateAsync(("NewsBot:Delivery:ChunkSize", "2"));
        await h.SeedAsync(
            new NewSubscriber("a@example.org", 101, ["sanctions"], Cadence.Instant),
            new NewSubscriber("b@example.org", null, [], Cadence.Instant),
            new NewSubscriber(null, 103, ["sanctions"], Cadence.Instant));
        var postId = await h.AddPostAsync("p1", ["sanctions"]);
        var plan = await h.Planner.PlanAsync(new SendRequest("post", postId, Cadence.Instant, null, null, false), Ct);

        await h.RunDispatchesAsync();
        var files = h.OutboxFiles();
        var written = files.Select(f => File.GetLastWriteTimeUtc(Path.Combine(h.OutboxDirectory, f))).ToList();
        await h.RunDispatchesAsync();

        Assert.Equal(2, h.DispatchRanges().Count);
        Assert.Equal(4, files.Length);
        Assert.Equal(2, files.Count(f => f.EndsWith(".eml", StringComparison.Ordinal)));
        Assert.Equal(files, h.OutboxFiles());
        Assert.Equal(written, files.Select(f => File.GetLastWriteTimeUtc(Path.Combine(h.OutboxDirectory, f))));
        var counts = await h.Store.CountStatesAsync(plan.SendId!.Value, Ct);
        Assert.Equal(4, counts[DeliveryState.Sent]);
        Assert.Equal(4, await h.CountAsync("SELECT COUNT(*) FROM deliveries WHERE attempts = 1 AND sent_at IS NOT NULL"));
        Assert.NotNull((await h.Store.GetSendAsync(plan.SendId.Value, Ct))!.FinishedAt);
    }

    [SkippableFact]
    public async Task CrashMidChunk_ReleaseAndRecovery_SendEachRowExactlyOnce()
    {
        var h = await CreateAsync(("NewsBot:Delivery:ChunkSize", "3"));
        await h.SeedAsync(Enumerable.Range(1, 5).Select(i => new NewSubscriber($"s{i}@example.org", null, [], Cadence.Instant)).ToArray());
        var postId = await h.AddPostAsync("p1", ["nuclear"]);
        var plan = await h.Planner.PlanAsync(new SendRequest("post", postId, Cadence.Instant, [Channels.Email], null, false), Ct);
        var sendId = plan.SendId!.Value;

        // A process claimed the first chunk an hour ago, the outbox wrote two messages, and the process died before
        // marking them: its lease has long run out.
        var (_, first, last) = h.DispatchRanges()[0];
        var crashed = new DeliveryStore(h.Db, new ManualTime(DateTimeOffset.UtcNow.AddHours(-1)), "crashed", TimeSpan.FromMinutes(2));
        var claimed = await crashed.ClaimAsync(sendId, first, last, Ct);
        var outbox = h.Services.GetServices<IChannel>().Last(c => c.Name == Channels.Email);
        var messages = await h.Store.GetMessagesAsync(sendId, Ct);
        foreach (var row in claimed.Take(2))
        {
            Assert.Equal(ChannelResult.Sent, await outbox.SendAsync(new OutgoingMessage(row.IdempotencyKey, row.Channel, row.Address, "before the crash", "<p>html</p>", "text"), Ct));
        }

        var beforeCrash = h.OutboxFiles();
        h.Jobs.Clear();

        var recovery = ActivatorUtilities.CreateInstance<DeliveryRecovery>(h.Services, (IBackgroundJobClient)h.Jobs, h.Planner);
        await recovery.StartAsync(Ct);
        Assert.Equal(5, (await h.Store.CountStatesAsync(sendId, Ct))[DeliveryState.Pending]);
        await h.RunDispatchesAsync();
        await h.RunDispatchesAsync();

        Assert.Equal(2, beforeCrash.Length);
        Assert.Equal(2, h.DispatchRanges().Count);
        Assert.Equal(5, h.OutboxFiles().Length);
        Assert.Equal(5, (await h.Store.CountStatesAsync(sendId, Ct))[DeliveryState.Sent]);
        // The two messages written before the crash were not written again: they still hold the old subject.
        foreach (var file in beforeCrash)
        {
            Assert.Contains("Subject: before the crash", await File.ReadAllTextAsync(Path.Combine(h.OutboxDirectory, file)), StringComparison.Ordinal);
        }

        Assert.NotEmpty(messages);
        Assert.Equal(3, await h.CountAsync("SELECT COUNT(*) FROM deliveries WHERE attempts = 2"));
    }

    [SkippableFact]
    public async Task ASuppressedAddressIsSkippedAtSendTimeWithItsReason()
    {
        var h = await CreateAsync();
        await h.SeedAsync(
            new NewSubscriber("kept@example.org", null, [], Cadence.Instant),
            new NewSubscriber("complained@example.org", 77, [], Cadence.Instant));
        var postId = await h.AddPostAsync("p1", ["nuclear"]);
        var sendId = (await h.Planner.PlanAsync(new SendRequest("post", postId, null, null, null, false), Ct)).SendId!.Value;
        // Suppressed after planning, before dispatch: the list is checked at send time, not only when planning.
        await h.Subscribers.SuppressAsync(Channels.Email, "complained@example.org", "spam complaint", Ct);

        await h.RunDispatchesAsync();

        var counts = await h.Store.CountStatesAsync(sendId, Ct);
        Assert.Equal(2, counts[DeliveryState.Sent]);
        Assert.Equal(1, counts[DeliveryState.Skipped]);
        Assert.Equal(1, await h.CountAsync("SELECT COUNT(*) FROM deliveries WHERE address = 'complained@example.org' AND state = 'skipped' AND skip_reason = 'suppressed'"));
        Assert.Equal(2, h.OutboxFiles().Length);
        Assert.DoesNotContain(h.OutboxFiles(), f => File.ReadAllText(Path.Combine(h.OutboxDirectory, f)).Contains("complained@example.org", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task ChannelException_MarksRowFailedTransient_AndRetryFailedRequeuesOnlyFailedRows()
    {
        var h = await CreateAsync();
        await h.SeedAsync(
            new NewSubscriber("a@example.org", 201, [], Cadence.Instant),
            new NewSubscriber("b@example.org", 202, [], Cadence.Instant));
        var postId = await h.AddPostAsync("p1", ["nuclear"]);
        var sendId = (await h.Planner.PlanAsync(new SendRequest("post", postId, null, null, null, false), Ct)).SendId!.Value;
        var email = h.Services.GetServices<IChannel>().Last(c => c.Name == Channels.Email);
        var broken = new ThrowingChannel(Channels.Telegram);

        var failures = await h.RunDispatchesAsync(h.Dispatcher(email, broken));
        var afterFailure = await h.Store.CountStatesAsync(sendId, Ct);
        var errors = await h.Store.ListErrorsAsync(sendId, 10, Ct);
        var finishedWithFailures = (await h.Store.GetSendAsync(sendId, Ct))!.FinishedAt;
        var retried = await h.Store.RetryFailedAsync(sendId, Ct);
        var afterRetry = await h.Store.CountStatesAsync(sendId, Ct);
        var reopened = (await h.Store.GetSendAsync(sendId, Ct))!.FinishedAt;
        var emailFiles = h.OutboxFiles();
        await h.RunDispatchesAsync();

        Assert.Equal(1, failures);
        Assert.Equal((2, 2), (afterFailure[DeliveryState.Sent], afterFailure[DeliveryState.FailedTransient]));
        Assert.All(errors, e => Assert.Equal((Channels.Telegram, "InvalidOperationException: telegram is down"), (e.Channel, e.Error)));
        Assert.NotNull(finishedWithFailures);
        Assert.Equal(2, retried);
        Assert.Equal((2, 2), (afterRetry[DeliveryState.Sent], afterRetry[DeliveryState.Pending]));
        Assert.Null(reopened);
        Assert.Equal(2, emailFiles.Length);
        Assert.Equal(4, h.OutboxFiles().Length);
        Assert.Equal(2, broken.Calls);
        Assert.Equal(4, (await h.Store.CountStatesAsync(sendId, Ct))[DeliveryState.Sent]);
        Assert.Equal(2, await h.CountAsync("SELECT COUNT(*) FROM deliveries WHERE channel = 'email' AND attempts = 1"));
        Assert.NotNull((await h.Store.GetSendAsync(sendId, Ct))!.FinishedAt);
    }

    [SkippableFact]
    public async Task DispatchAsync_PersonalisesLinksPerRecipient()
    {
        var h = await CreateAsync(("NewsBot:Templates:PublicBaseUrl", "https://news.example/"));
        await h.SeedAsync(new NewSubscriber(null, 301, [], Cadence.Instant), new NewSubscriber(null, 302, [], Cadence.Instant));
        var postId = await h.AddPostAsync("p1", ["nuclear"]);
        var recorder = new RecordingChannel(Channels.Telegram);
        await h.Planner.PlanAsync(new SendRequest("post", postId, null, [Channels.Telegram], null, false), Ct);

        await h.RunDispatchesAsync(h.Dispatcher(recorder));

        Assert.Equal(2, recorder.Messages.Count);
        Assert.Equal(2, recorder.Messages.Select(m => m.Body).Distinct().Count());
        Assert.All(recorder.Messages, m => Assert.Contains("https://news.example/unsubscribe?t=u.", m.Body, StringComparison.Ordinal));
        Assert.All(recorder.Messages, m => Assert.Null(m.TextBody));
        // Each link is signed for its own recipient and purpose (SubscriptionTokens).
        var tokens = h.Services.GetRequiredService<SubscriptionTokens>();
        foreach (var message in recorder.Messages)
        {
            var subscriber = await h.Subscribers.FindByAddressAsync(Channels.Telegram, message.Address, Ct);
            var unsubscribe = message.Links!.UnsubscribeUrl[(message.Links.UnsubscribeUrl.IndexOf("?t=", StringComparison.Ordinal) + 3)..];
            var preferences = message.Links.PreferencesUrl[(message.Links.PreferencesUrl.IndexOf("?t=", StringComparison.Ordinal) + 3)..];
            Assert.Equal(TokenProblem.None, tokens.Verify(unsubscribe, TokenPurpose.Unsubscribe, out var u));
            Assert.Equal(TokenProblem.None, tokens.Verify(preferences, TokenPurpose.Preferences, out var p));
            Assert.Equal((subscriber!.Id, Channels.Telegram, (DateTimeOffset?)null), (u!.SubscriberId, u.Channel, u.Expires));
            Assert.Equal((subscriber.Id, Channels.Telegram), (p!.SubscriberId, p.Channel));
            Assert.Contains(message.Links.UnsubscribeUrl, message.Body, StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public async Task Digest_AfterDispatch_TheNextDigestHasNothingToSend()
    {
        var h = await CreateAsync();
        await h.SeedAsync(new NewSubscriber("a@example.org", null, [], Cadence.Daily));
        await h.AddPostAsync("p1", ["nuclear"]);
        var first = await h.Planner.PlanAsync(new SendRequest("digest", null, Cadence.Daily, null, null, false), Ct);
        await h.RunDispatchesAsync();
        h.Jobs.Clear();

        var second = await h.Planner.PlanAsync(new SendRequest("digest", null, Cadence.Daily, null, null, false), Ct);

        Assert.Equal(1, first.Audience[Channels.Email]);
        Assert.Equal(0, second.Audience[Channels.Email]);
        Assert.Empty(h.DispatchRanges());
        Assert.Single(h.OutboxFiles());
        Assert.NotNull((await h.Store.GetSendAsync(second.SendId!.Value, Ct))!.FinishedAt);
    }

    [SkippableFact]
    public async Task StoppedMidChunk_ReleasesTheUnsentRowsToPending()
    {
        var h = await CreateAsync();
        await h.SeedAsync(Enumerable.Range(1, 4).Select(i => new NewSubscriber(null, 400 + i, [], Cadence.Instant)).ToArray());
        var postId = await h.AddPostAsync("p1", ["nuclear"]);
        var sendId = (await h.Planner.PlanAsync(new SendRequest("post", postId, null, [Channels.Telegram], null, false), Ct)).SendId!.Value;
        using var stop = new CancellationTokenSource();
        var stopping = new StoppingChannel(Channels.Telegram, stop, stopAt: 2);
        var (_, first, last) = Assert.Single(h.DispatchRanges());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Dispatcher(stopping).DispatchAsync(sendId, first, last, stop.Token));

        var counts = await h.Store.CountStatesAsync(sendId, Ct);
        Assert.Equal((1, 3, 0), (counts[DeliveryState.Sent], counts[DeliveryState.Pending], counts[DeliveryState.Sending]));
    }

    private sealed class StoppingChannel(string name, CancellationTokenSource stop, int stopAt) : IChannel
    {
        private int _calls;

        public string Name { get; } = name;

        public double MessagesPerSecond => 1000;

        public Task<ChannelResult> SendAsync(OutgoingMessage message, CancellationToken ct)
        {
            if (++_calls == stopAt)
            {
                stop.Cancel();
                ct.ThrowIfCancellationRequested();
            }

            return Task.FromResult(ChannelResult.Sent);
        }
    }

    private async Task<DeliveryHarness> CreateAsync(params (string Key, string? Value)[] settings)
    {
        _harness = await DeliveryHarness.CreateAsync(provider, settings);
        return _harness;
    }

    private sealed class ThrowingChannel(string name) : IChannel
    {
        public int Calls { get; private set; }

        public string Name { get; } = name;

        public double MessagesPerSecond => 1000;

        public Task<ChannelResult> SendAsync(OutgoingMessage message, CancellationToken ct)
        {
            Calls++;
            throw new InvalidOperationException($"{Name} is down");
        }
    }

    private sealed class RecordingChannel(string name) : IChannel
    {
        public List<OutgoingMessage> Messages { get; } = [];

        public string Name { get; } = name;

        public double MessagesPerSecond => 1000;

        public Task<ChannelResult> SendAsync(OutgoingMessage message, CancellationToken ct)
        {
            Messages.Add(message);
            return Task.FromResult(ChannelResult.Sent);
        }
    }
}

public sealed class DispatchJobSqliteTests() : DispatchJobTests(Db.SqliteProvider);

public sealed class DispatchJobPostgresqlTests() : DispatchJobTests(Db.PostgresqlProvider);
