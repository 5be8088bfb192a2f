using NewsBot.Delivery;
using NewsBot.Storage;
using NewsBot.Subscribers;

namespace NewsBot.Tests.Delivery;

public abstract class DeliveryStoreTests(string provider) : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private DeliveryHarness? _harness;

    public void Dispose() => _harness?.Dispose();

    [SkippableFact]
    public async Task AddAsync_SameRowsTwice_InsertsOnce()
    {
        var (store, sendId) = await CreateSendAsync();
        NewDelivery[] rows = [new(1, Channels.Email, "a@example.org", "post"), new(1, Channels.Telegram, "42", "post"), new(2, Channels.Email, "b@example.org", "post")];

        DeliveryRange? first;
        DeliveryRange? second;
        await using (var writer = await store.OpenLedgerWriterAsync(sendId, Ct))
        {
            first = await writer.AddAsync(rows, Ct);
            second = await writer.AddAsync(rows, Ct);
        }

        await using (var writer = await store.OpenLedgerWriterAsync(sendId, Ct))
        {
            Assert.Null(await writer.AddAsync(rows.Reverse().ToList(), Ct));
        }

        Assert.NotNull(first);
        Assert.Equal(3, first.Count);
        Assert.Equal(2, first.LastId - first.FirstId);
        Assert.Null(second);
        Assert.Equal(3, (await store.CountStatesAsync(sendId, Ct))[DeliveryState.Pending]);
    }

    [SkippableFact]
    public async Task ClaimAsync_NeverReturnsSentOrSendingRows()
    {
        var (store, sendId) = await CreateSendAsync();
        DeliveryRange range;
        await using (var writer = await store.OpenLedgerWriterAsync(sendId, Ct))
        {
            range = (await writer.AddAsync([new(1, Channels.Email, "a@example.org", "post"), new(2, Channels.Email, "b@example.org", "post"), new(3, Channels.Email, "c@example.org", "post"), new(4, Channels.Email, "d@example.org", "post")], Ct))!;
        }

        var claimed = await store.ClaimAsync(sendId, range.FirstId, range.LastId, Ct);
        await store.MarkSentAsync(claimed[0].Id, Ct);
        await store.MarkFailedAsync(claimed[1].Id, permanent: false, "timeout", Ct);
        await store.MarkFailedAsync(claimed[2].Id, permanent: true, "no such user", Ct);
        var again = await store.ClaimAsync(sendId, range.FirstId, range.LastId, Ct);

        Assert.Equal(4, claimed.Count);
        Assert.All(claimed, c => Assert.Equal(1, c.Attempts));
        var retried = Assert.Single(again);
        Assert.Equal(claimed[1].Id, retried.Id);
        Assert.Equal(2, retried.Attempts);
        Assert.Empty(await store.ClaimAsync(sendId, range.FirstId, range.LastId, Ct));
        var errors = await store.ListErrorsAsync(sendId, 10, Ct);
        var permanent = Assert.Single(errors);
        Assert.Equal(("c@example.org", DeliveryState.FailedPermanent, "no such user"), (permanent.Address, permanent.State, permanent.Error));
    }

    [SkippableFact]
    public async Task ClaimAsync_ConcurrentClaimsOfOneRange_HandOutEachRowOnce()
    {
        var (store, sendId) = await CreateSendAsync();
        DeliveryRange range;
        await using (var writer = await store.OpenLedgerWriterAsync(sendId, Ct))
        {
            range = (await writer.AddAsync(
                Enumerable.Range(1, 200).Select(i => new NewDelivery(i, Channels.Email, $"r{i}@example.org", "post")).ToList(), Ct))!;
        }

        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => store.ClaimAsync(sendId, range.FirstId, range.LastId, Ct))));

        var ids = claims.SelectMany(c => c.Select(d => d.Id)).ToList();
        Assert.Equal(200, ids.Count);
        Assert.Equal(200, ids.Distinct().Count());
        Assert.All(claims.SelectMany(c => c), d => Assert.Equal(1, d.Attempts));
        Assert.Equal(200, (await store.CountStatesAsync(sendId, Ct))[DeliveryState.Sending]);
    }

    [SkippableFact]
    public async Task ClaimAsync_TakesOnlyRowsOfItsSendAndRange()
    {
        var (store, sendId) = await CreateSendAsync();
        var otherSend = (await store.CreateSendAsync("post", null, null, Channels.All, null, false, "admin", null, Ct))!.Value;
        DeliveryRange a;
        DeliveryRange b;
        await using (var writer = await store.OpenLedgerWriterAsync(sendId, Ct))
        {
            a = (await writer.AddAsync([new(1, Channels.Email, "a@example.org", "post"), new(2, Channels.Email, "b@example.org", "post")], Ct))!;
        }

        await using (var writer = await store.OpenLedgerWriterAsync(otherSend, Ct))
        {
            b = (await writer.AddAsync([new(1, Channels.Email, "a@example.org", "post")], Ct))!;
        }

        var claimed = await store.ClaimAsync(sendId, a.FirstId, b.LastId, Ct);

        Assert.Equal([a.FirstId, a.LastId], claimed.Select(c => c.Id));
        Assert.Equal(DeliveryStore.IdempotencyKey(sendId, 1, Channels.Email), claimed[0].IdempotencyKey);
    }

    [SkippableFact]
    public async Task TryFinishSendAsync_WaitsForPlanningAndOpenRows()
    {
        var (store, sendId) = await CreateSendAsync();
        DeliveryRange range;
        await using (var writer = await store.OpenLedgerWriterAsync(sendId, Ct))
        {
            range = (await writer.AddAsync([new(1, Channels.Email, "a@example.org", "post")], Ct))!;
        }

        Assert.False(await store.TryFinishSendAsync(sendId, Ct));
        await store.MarkPlannedAsync(sendId, Ct);
        Assert.False(await store.TryFinishSendAsync(sendId, Ct));
        var claimed = Assert.Single(await store.ClaimAsync(sendId, range.FirstId, range.LastId, Ct));
        Assert.False(await store.TryFinishSendAsync(sendId, Ct));
        await store.MarkSkippedAsync(claimed.Id, "suppressed", Ct);

        Assert.True(await store.TryFinishSendAsync(sendId, Ct));
        Assert.False(await store.TryFinishSendAsync(sendId, Ct));
        var send = (await store.GetSendAsync(sendId, Ct))!;
        Assert.NotNull(send.FinishedAt);
        Assert.Equal(1, send.Total);
        Assert.Empty(await store.ListUnfinishedSendsAsync(Ct));
    }

    [SkippableFact]
    public async Task ListPendingRangesAsync_SplitsPendingRowsIntoChunks()
    {
        var (store, sendId) = await CreateSendAsync();
        await using (var writer = await store.OpenLedgerWriterAsync(sendId, Ct))
        {
            await writer.AddAsync(Enumerable.Range(1, 7).Select(i => new NewDelivery(i, Channels.Email, $"s{i}@example.org", "post")).ToList(), Ct);
        }

        var all = await store.ListPendingRangesAsync(sendId, 3, Ct);
        await store.ClaimAsync(sendId, all[0].FirstId, all[0].LastId, Ct);
        var rest = await store.ListPendingRangesAsync(sendId, 3, Ct);

        Assert.Equal([3, 3, 1], all.Select(r => r.Count));
        Assert.Equal(all[0].FirstId + 6, all[2].LastId);
        Assert.Equal([3, 1], rest.Select(r => r.Count));
        Assert.Equal(all[1].FirstId, rest[0].FirstId);
    }

    [SkippableFact]
    public async Task ListLatestSendsAsync_NewestFirstAtMostCount()
    {
        var (store, first) = await CreateSendAsync();
        var second = await store.CreateSendAsync("digest", null, Cadence.Daily, Channels.All, null, false, "admin", null, Ct);
        var third = await store.CreateSendAsync("digest", null, Cadence.Weekly, Channels.All, null, false, "admin", null, Ct);

        var two = await store.ListLatestSendsAsync(2, Ct);
        var all = await store.ListLatestSendsAsync(10, Ct);

        Assert.Equal([third!.Value, second!.Value], two.Select(s => s.Id));
        Assert.Equal([third.Value, second.Value, first], all.Select(s => s.Id));
        Assert.Equal(Cadence.Weekly, two[0].Cadence);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.ListLatestSendsAsync(0, Ct));
    }

    private async Task<(DeliveryStore Store, long SendId)> CreateSendAsync()
    {
        _harness = await DeliveryHarness.CreateAsync(provider);
        var sendId = await _harness.Store.CreateSendAsync("post", null, null, Channels.All, null, false, "admin", null, Ct);
        return (_harness.Store, sendId!.Value);
    }
}

public sealed class DeliveryStoreSqliteTests() : DeliveryStoreTests(Db.SqliteProvider);

public sealed class DeliveryStorePostgresqlTests() : DeliveryStoreTests(Db.PostgresqlProvider);
