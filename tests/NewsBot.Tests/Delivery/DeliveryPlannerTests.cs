using NewsBot.Delivery;
using NewsBot.Storage;
using NewsBot.Subscribers;

namespace NewsBot.Tests.Delivery;

public abstract class DeliveryPlannerTests(string provider) : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private DeliveryHarness? _harness;

    public void Dispose() => _harness?.Dispose();

    [SkippableFact]
    public async Task DryRun_CountsAudienceByTopicChannelAndCadence_AndWritesNothing()
    {
        var h = await CreateAsync();
        await h.SeedAsync(
            new NewSubscriber("a@example.org", 1, ["sanctions"], Cadence.Instant),
            new NewSubscriber("b@example.org", null, ["nuclear"], Cadence.Instant),
            new NewSubscriber(null, 3, [], Cadence.Instant),
            new NewSubscriber("d@example.org", null, ["sanctions", "russia"], Cadence.Daily),
            new NewSubscriber("e@example.org", 5, ["sanctions"], Cadence.Off),
            new NewSubscriber("f@example.org", null, ["sanctions"], Cadence.Instant, Status: ChannelStatus.Unsubscribed));
        var postId = await h.AddPostAsync("p1", ["sanctions", "ukraine"]);
        var planner = h.Planner;

        var instant = await planner.PlanAsync(new SendRequest("post", postId, Cadence.Instant, null, null, true), Ct);
        var anyCadence = await planner.PlanAsync(new SendRequest("post", postId, null, null, null, true), Ct);
        var telegramOnly = await planner.PlanAsync(new SendRequest("post", postId, null, [Channels.Telegram], null, true), Ct);
        var nuclear = await planner.PlanAsync(new SendRequest("post", postId, Cadence.Instant, null, ["nuclear"], true), Ct);
        var daily = await planner.PlanAsync(new SendRequest("post", postId, Cadence.Daily, null, null, true), Ct);

        Assert.Null(instant.SendId);
        Assert.Equal((1, 2), (instant.Audience[Channels.Email], instant.Audience[Channels.Telegram]));
        Assert.Equal((2, 2), (anyCadence.Audience[Channels.Email], anyCadence.Audience[Channels.Telegram]));
        Assert.Equal([Channels.Telegram], telegramOnly.Audience.Keys);
        Assert.Equal(2, telegramOnly.Audience[Channels.Telegram]);
        Assert.Equal((1, 1), (nuclear.Audience[Channels.Email], nuclear.Audience[Channels.Telegram]));
        Assert.Equal((1, 0), (daily.Audience[Channels.Email], daily.Audience[Channels.Telegram]));
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM sends"));
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM deliveries"));
        Assert.Empty(h.Jobs.Recorded);
        Assert.True(instant.Eta > DateTimeOffset.UtcNow.AddMinutes(-1));
    }

    [SkippableFact]
    public async Task PostSend_WritesOneRowPerRecipientAndOneJobPerChunk()
    {
        var h = await CreateAsync(("NewsBot:Delivery:ChunkSize", "4"), ("NewsBot:Delivery:OutboxRatePerSecond", "2"));
        await h.SeedAsync(Enumerable.Range(1, 9).Select(i => new NewSubscriber($"s{i}@example.org", i, [], Cadence.Instant)).ToArray());
        var postId = await h.AddPostAsync("p1", ["nuclear"]);
        var before = DateTimeOffset.UtcNow;

        var plan = await h.Planner.PlanAsync(new SendRequest("post", postId, Cadence.Instant, null, null, false, "admin"), Ct);

        var sendId = plan.SendId!.Value;
        Assert.Equal((9, 9), (plan.Audience[Channels.Email], plan.Audience[Channels.Telegram]));
        var ranges = h.DispatchRanges();
        Assert.Equal(5, ranges.Count);
        Assert.All(ranges, r => Assert.Equal(sendId, r.SendId));
        Assert.Equal(18, await h.CountAsync("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'"));
        Assert.Equal(3, await h.CountAsync("SELECT COUNT(*) FROM send_messages"));
        var send = (await h.Store.GetSendAsync(sendId, Ct))!;
        Assert.Equal((18, "admin"), (send.Total, send.RequestedBy));
        Assert.NotNull(send.PlannedAt);
        Assert.Null(send.FinishedAt);
        // 9 per channel at 2 per second, channels in parallel.
        Assert.InRange(plan.Eta - before, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60));
    }

    [SkippableFact]
    public async Task Digest_RendersOncePerVariant_AndSkipsRecipientsWithoutPosts()
    {
        var h = await CreateAsync();
        await h.SeedAsync(
            new NewSubscriber("s1@example.org", null, ["sanctions"], Cadence.Daily),
            new NewSubscriber("s2@example.org", null, ["sanctions"], Cadence.Daily),
            new NewSubscriber("s3@example.org", 3, ["sanctions"], Cadence.Daily),
            new NewSubscriber("n1@example.org", null, ["nuclear"], Cadence.Daily),
            new NewSubscriber("all1@example.org", null, [], Cadence.Daily),
            new NewSubscriber(null, 6, [], Cadence.Daily),
            new NewSubscriber("u1@example.org", 7, ["ukraine"], Cadence.Daily),
            new NewSubscriber("w1@example.org", null, ["sanctions"], Cadence.Weekly));
        await h.AddPostAsync("sanctions-new", ["sanctions"], DateTimeOffset.UtcNow.AddHours(-3));
        await h.AddPostAsync("nuclear-new", ["nuclear"], DateTimeOffset.UtcNow.AddHours(-2));
        await h.AddPostAsync("ukraine-old", ["ukraine"], DateTimeOffset.UtcNow.AddDays(-3));

        var plan = await h.Planner.PlanAsync(new SendRequest("digest", null, Cadence.Daily, null, null, false), Ct);

        var sendId = plan.SendId!.Value;
        Assert.Equal((5, 2), (plan.Audience[Channels.Email], plan.Audience[Channels.Telegram]));
        var messages = await h.Store.GetMessagesAsync(sendId, Ct);
        // Three variants (sanctions, nuclear, all topics), each rendered once per format.
        Assert.Equal(3, messages.Select(m => m.Variant).Distinct().Count());
        Assert.Equal(9, messages.Count);
        Assert.Equal(7, await h.CountAsync("SELECT COUNT(*) FROM deliveries"));
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM deliveries WHERE address LIKE 'u1%' OR address = '7' OR address LIKE 'w1%'"));
        var all = messages.Single(m => m.Variant.EndsWith(":*", StringComparison.Ordinal) && m.Format == NewsBot.Templates.MessageFormat.EmailText);
        Assert.Contains("Title sanctions-new", all.Body, StringComparison.Ordinal);
        Assert.Contains("Title nuclear-new", all.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("ukraine-old", all.Body, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("UTC", "2026-11-28T07:00:00Z", 1, "2026-11-27T00:00:00Z")]
    [InlineData("Asia/Tokyo", "2026-11-28T07:00:00Z", 1, "2026-11-26T15:00:00Z")]
    [InlineData("Asia/Tokyo", "2026-11-28T16:00:00Z", 1, "2026-11-27T15:00:00Z")]
    [InlineData("America/New_York", "2026-03-09T12:00:00Z", 1, "2026-03-08T05:00:00Z")]
    [InlineData("America/New_York", "2026-11-28T07:00:00Z", 7, "2026-11-21T05:00:00Z")]
    public void AFirstDigestStartsAtTheReadersMidnightOnePeriodBack(string zone, string now, int days, string expected)
    {
        var start = DeliveryPlanner.FirstDigestStart(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture), TimeSpan.FromDays(days), zone);

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), start);
    }

    [SkippableFact]
    public async Task Digest_WindowsFollowEachSubscribersTimeZone()
    {
        var h = await CreateAsync();
        await h.SeedAsync(
            new NewSubscriber("london@example.org", null, [], Cadence.Daily, "UTC"),
            new NewSubscriber("tokyo@example.org", null, [], Cadence.Daily, "Asia/Tokyo"));
        // Yesterday began 9 or 15 hours apart in the two zones: a post between the two starts is news to one only.
        var now = DateTimeOffset.UtcNow;
        var london = DeliveryPlanner.FirstDigestStart(now, TimeSpan.FromDays(1), "UTC");
        var tokyo = DeliveryPlanner.FirstDigestStart(now, TimeSpan.FromDays(1), "Asia/Tokyo");
        var (earlier, later) = tokyo < london ? ("tokyo", london) : ("london", tokyo);
        await h.AddPostAsync("between", ["nuclear"], (tokyo < london ? tokyo : london).AddMinutes(1));
        await h.AddPostAsync("everyone", ["nuclear"], later.AddMinutes(1));

        var plan = await h.Planner.PlanAsync(new SendRequest("digest", null, Cadence.Daily, [Channels.Email], null, false), Ct);

        var texts = (await h.Store.GetMessagesAsync(plan.SendId!.Value, Ct)).Where(m => m.Format == NewsBot.Templates.MessageFormat.EmailText).ToList();
        Assert.Equal(2, texts.Count);
        Assert.Single(texts, m => m.Body.Contains("Title between", StringComparison.Ordinal) && m.Body.Contains("Title everyone", StringComparison.Ordinal));
        Assert.Single(texts, m => !m.Body.Contains("Title between", StringComparison.Ordinal) && m.Body.Contains("Title everyone", StringComparison.Ordinal));
        var earlierVariant = await h.CountAsync($"SELECT COUNT(*) FROM deliveries WHERE address = '{earlier}@example.org' AND variant LIKE 'digest:{DbExtensions.FormatTimestamp(earlier == "tokyo" ? tokyo : london)}%'");
        Assert.Equal(1, earlierVariant);
    }

    [SkippableFact]
    public async Task Digest_WithoutPosts_SendsNothingAndFinishes()
    {
        var h = await CreateAsync();
        await h.SeedAsync(new NewSubscriber("a@example.org", 1, [], Cadence.Weekly));
        await h.AddPostAsync("old", ["nuclear"], DateTimeOffset.UtcNow.AddDays(-9));

        var plan = await h.Planner.PlanAsync(new SendRequest("digest", null, Cadence.Weekly, null, null, false), Ct);

        Assert.Equal(0, plan.Audience.Values.Sum());
        Assert.Empty(h.Jobs.Recorded);
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM deliveries"));
        Assert.Equal(0, await h.CountAsync("SELECT COUNT(*) FROM send_messages"));
        Assert.NotNull((await h.Store.GetSendAsync(plan.SendId!.Value, Ct))!.FinishedAt);
    }

    [SkippableFact]
    public async Task PlanAsync_RejectsBadRequestsWithReasons()
    {
        var h = await CreateAsync();
        var planner = h.Planner;

        var kind = await Assert.ThrowsAsync<ArgumentException>(() => planner.PlanAsync(new SendRequest("poll", 1, null, null, null, true), Ct));
        var channel = await Assert.ThrowsAsync<ArgumentException>(() => planner.PlanAsync(new SendRequest("post", 1, null, ["sms"], null, true), Ct));
        var cadence = await Assert.ThrowsAsync<ArgumentException>(() => planner.PlanAsync(new SendRequest("digest", null, Cadence.Instant, null, null, true), Ct));
        var post = await Assert.ThrowsAsync<ArgumentException>(() => planner.PlanAsync(new SendRequest("post", 999, null, null, null, false), Ct));

        Assert.Contains("'poll'", kind.Message, StringComparison.Ordinal);
        Assert.Contains("'sms'", channel.Message, StringComparison.Ordinal);
        Assert.Contains("daily or weekly", cadence.Message, StringComparison.Ordinal);
        Assert.Contains("Post 999", post.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Resume_OfACutOffPlanning_AddsOnlyTheMissingRows()
    {
        var h = await CreateAsync(("NewsBot:Delivery:ChunkSize", "2"));
        await h.SeedAsync(Enumerable.Range(1, 5).Select(i => new NewSubscriber($"s{i}@example.org", null, [], Cadence.Instant)).ToArray());
        var postId = await h.AddPostAsync("p1", ["nuclear"]);
        var plan = await h.Planner.PlanAsync(new SendRequest("post", postId, Cadence.Instant, null, null, false), Ct);
        var sendId = plan.SendId!.Value;
        // Cut the planning off: the last rows and planned_at are lost.
        await using (var connection = await h.Db.OpenAsync(Ct))
        {
            await using var cut = connection.CreateCommand();
            cut.CommandText = $"DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE send_id = {sendId} ORDER BY id DESC LIMIT 2); UPDATE sends SET planned_at = NULL WHERE id = {sendId}";
            await cut.ExecuteNonQueryAsync(Ct);
        }

        h.Jobs.Clear();

        await h.Planner.ResumeAsync(sendId, Ct);

        // Only the two re-added rows are dispatched (the chunks they fell into held one new row each).
        var ranges = h.DispatchRanges();
        Assert.Equal(5, await h.CountAsync("SELECT COUNT(*) FROM deliveries"));
        Assert.Equal(2, ranges.Sum(r => r.LastId - r.FirstId + 1));
        Assert.Equal(2, await h.CountAsync($"SELECT COUNT(*) FROM deliveries WHERE id >= {ranges.Min(r => r.FirstId)}"));
        Assert.Equal(5, (await h.Store.GetSendAsync(sendId, Ct))!.Total);
    }

    [SkippableFact]
    public async Task ATelegramDigestInParts_IsOneRowPerPart_PartOrderedInTheChunk_NeverSplitAcrossChunks()
    {
        var h = await CreateAsync(("NewsBot:Delivery:ChunkSize", "5"), ("NewsBot:Delivery:OutboxRatePerSecond", "1"));
        await h.SeedAsync(
            new NewSubscriber("a@example.org", 11, [], Cadence.Daily),
            new NewSubscriber(null, 12, [], Cadence.Daily),
            new NewSubscriber(null, 13, [], Cadence.Daily),
            new NewSubscriber(null, 14, [], Cadence.Daily));
        await h.AddLongPostsAsync(30);
        var since = DateTimeOffset.UtcNow.AddDays(-1);
        var before = DateTimeOffset.UtcNow;

        var dryRun = await h.Planner.PlanAsync(new SendRequest("digest", null, Cadence.Daily, null, null, true, Since: since), Ct);
        var plan = await h.Planner.PlanAsync(new SendRequest("digest", null, Cadence.Daily, null, null, false, Since: since), Ct);

        var sendId = plan.SendId!.Value;
        var parts = (plan.Messages - 1) / 4;
        Assert.InRange(parts, 2, 10);
        Assert.Equal((1, 4), (plan.Audience[Channels.Email], plan.Audience[Channels.Telegram]));
        Assert.Equal(plan.Messages, dryRun.Messages);
        // The ETA counts messages, not recipients: 4 chats x parts at the outbox's 1 per second.
        Assert.InRange(dryRun.Eta - before, TimeSpan.FromSeconds(4 * parts), TimeSpan.FromSeconds(4 * parts + 30));
        Assert.Equal(4 * parts, await h.CountAsync("SELECT COUNT(*) FROM deliveries WHERE channel = 'telegram' AND idempotency_key LIKE '%:telegram:part:%' AND variant LIKE 'digest:%#%'"));
        Assert.Equal(parts + 2, await h.CountAsync($"SELECT COUNT(*) FROM send_messages WHERE send_id = {sendId}"));
        var rows = await ReadRowsAsync(h, sendId);
        foreach (var ranges in new[] { h.DispatchRanges().Select(r => (r.FirstId, r.LastId)).ToList(), (await h.Store.ListPendingRangesAsync(sendId, 3, Ct)).Select(r => (r.FirstId, r.LastId)).ToList() })
        {
            Assert.Equal(rows.Count, ranges.Sum(r => rows.Count(row => row.Id >= r.FirstId && row.Id <= r.LastId)));
            foreach (var (first, last) in ranges)
            {
                var chunk = rows.Where(r => r.Id >= first && r.Id <= last).ToList();
                // Every recipient's parts are all in this chunk, and part k of every recipient comes before any part k+1.
                Assert.All(chunk.Where(r => r.Channel == Channels.Telegram).GroupBy(r => r.SubscriberId), g => Assert.Equal(parts, g.Count()));
                Assert.Equal(chunk.OrderBy(r => r.Part).ThenBy(r => r.Id).Select(r => r.Id), chunk.Select(r => r.Id));
            }
        }

        await h.RunDispatchesAsync();

        Assert.Equal(plan.Messages, (await h.Store.CountStatesAsync(sendId, Ct))[DeliveryState.Sent]);
        Assert.Equal(4 * parts, h.OutboxFiles().Count(f => f.EndsWith(".json", StringComparison.Ordinal) && f.Contains("_telegram_part_", StringComparison.Ordinal)));
    }

    private static async Task<List<(long Id, long SubscriberId, string Channel, int Part)>> ReadRowsAsync(DeliveryHarness h, long sendId)
    {
        await using var connection = await h.Db.OpenAsync(Ct);
        await using var command = connection.CreateCommand($"SELECT id, subscriber_id, channel, idempotency_key FROM deliveries WHERE send_id = {sendId} ORDER BY id");
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<(long, long, string, int)>();
        while (await reader.ReadAsync(Ct))
        {
            var key = reader.GetString(3);
            var part = key.Contains(":part:", StringComparison.Ordinal) ? int.Parse(key[(key.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture) : 0;
            rows.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), part));
        }

        return rows;
    }

    private async Task<DeliveryHarness> CreateAsync(params (string Key, string? Value)[] settings)
    {
        _harness = await DeliveryHarness.CreateAsync(provider, settings);
        return _harness;
    }
}

public sealed class DeliveryPlannerSqliteTests() : DeliveryPlannerTests(Db.SqliteProvider);

public sealed class DeliveryPlannerPostgresqlTests() : DeliveryPlannerTests(Db.PostgresqlProvider);
