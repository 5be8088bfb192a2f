using NewsBot.Delivery;
using NewsBot.Feeds;
using NewsBot.Posts;
using NewsBot.Subscribers;

using Xunit.Abstractions;

namespace NewsBot.Tests.Delivery;

/// <summary>
/// The real binary fans a post out to 10,000 outbox recipients, is killed with SIGKILL mid-way, and restarts:
/// every recipient ends with exactly one sent row and one outbox file.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper log) : IDisposable
{
    private const int Recipients = 10_000;

    private readonly TestHost host = TestHost.Create();

    public void Dispose() => host.Dispose();

    private string Outbox => Path.Combine(host.DataDirectory, "outbox");

    [Fact]
    public async Task AKilledSendFinishesAfterRestartWithEachRecipientSentOnce()
    {
        var services = await host.StartAsync();
        await services.GetRequiredService<FeedRefresher>().RefreshFeedAsync("sample", force: true, null, CancellationToken.None);
        var post = (await services.GetRequiredService<PostStore>().LatestAsync(1, null, CancellationToken.None))[0];
        await services.GetRequiredService<SubscriberStore>().SeedAsync(
            Enumerable.Range(0, Recipients).Select(i => new NewSubscriber($"reader{i:D5}@example.org", null, [], Cadence.Instant)), CancellationToken.None);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        // The shortest lease: the killed instance's rows are swept back to pending seconds after the restart.
        (string, string) lease = ("NewsBot__Delivery__LeaseDuration", "00:00:05");
        long sendId;
        int filesAtKill;
        using (var first = await ServiceProcess.StartAsync(host, log, "first", lease))
        {
            sendId = await first.CreateSendAsync(post.Id, "email");
            filesAtKill = await WaitForOutboxFilesAsync(Recipients / 10);
            await first.KillAsync();
        }

        var countsAtKill = await services.GetRequiredService<DeliveryStore>().CountStatesAsync(sendId, CancellationToken.None);
        log.WriteLine($"killed with {filesAtKill} outbox files; ledger then: {string.Join(", ", countsAtKill.Select(c => $"{c.Key} {c.Value}"))}");
        Assert.True(countsAtKill.GetValueOrDefault(DeliveryState.Sent) < Recipients, "the send finished before the kill: the test proved nothing");

        using (var second = await ServiceProcess.StartAsync(host, log, "second", lease))
        {
            await second.WaitForFinishedAsync(sendId, TimeSpan.FromSeconds(180));
            await second.KillAsync();
        }

        var counts = await services.GetRequiredService<DeliveryStore>().CountStatesAsync(sendId, CancellationToken.None);
        Assert.Equal(Recipients, counts.GetValueOrDefault(DeliveryState.Sent));
        Assert.Equal(Recipients, counts.Values.Sum());
        var messages = Directory.EnumerateFiles(Outbox, "*.eml").ToList();
        var recipients = messages.Select(ServiceProcess.ReadRecipient).ToList();
        Assert.Equal(Recipients, messages.Count);
        Assert.Equal(Recipients, recipients.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    private async Task<int> WaitForOutboxFilesAsync(int atLeast)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(120); DateTime.UtcNow < deadline; await Task.Delay(10))
        {
            var count = Directory.Exists(Outbox) ? Directory.EnumerateFiles(Outbox, "*.eml").Count() : 0;
            if (count >= atLeast)
            {
                return count;
            }
        }

        throw new TimeoutException($"fewer than {atLeast} outbox files after 120 s");
    }
}
