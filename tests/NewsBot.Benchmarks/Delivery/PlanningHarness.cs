using System.Diagnostics;
using System.Globalization;

using Hangfire;
using Hangfire.Common;
using Hangfire.States;

using Microsoft.Extensions.DependencyInjection;

using NewsBot.Cli;
using NewsBot.Delivery;
using NewsBot.Feeds;
using NewsBot.Posts;
using NewsBot.Storage;
using NewsBot.Subscribers;

namespace NewsBot.Benchmarks.Delivery;

/// <summary>
/// <c>-- plan [n]</c>: seeds n subscribers (half email, half Telegram, mixed topics, all instant), then times the
/// planning of one post send to all of them into an empty ledger: streaming recipients, n ledger rows in chunked
/// transactions and one dispatch job per chunk (recorded, not run). Targets: 30 s and 300 MB peak working set
/// for 1,000,000.
/// </summary>
public static class PlanningHarness
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    public static async Task RunAsync(int subscribers)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "newsbot-plan", Guid.NewGuid().ToString("n"));
        try
        {
            var services = CliApp.BuildServices(new Dictionary<string, string?> { ["NewsBot:DataDirectory"] = dataDirectory });
            await services.MigrateStorageAsync(Ct);
            await services.GetRequiredService<FeedStateStore>().EnsureAsync("blog", "https://blog.example/feed", Ct);
            var saved = await services.GetRequiredService<PostStore>().SaveAsync("blog",
                [new NewPost("p1", "https://blog.example/p1", "Sanctions widen", null, DateTimeOffset.UtcNow, null, [], ["sanctions"], "<p>Body</p>", "Summary", "h1")], Ct);
            var postId = saved.InsertedIds[0];

            var clock = Stopwatch.StartNew();
            var store = services.GetRequiredService<SubscriberStore>();
            for (var start = 0; start < subscribers; start += 10_000)
            {
                await store.SeedAsync(Enumerable.Range(start, Math.Min(10_000, subscribers - start)).Select(NewSubscriber), Ct);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seeded {subscribers:N0} subscribers in {clock.Elapsed.TotalSeconds:F1} s"));
            GC.Collect();
            using var process = Process.GetCurrentProcess();
            process.Refresh();
            var beforeMb = process.WorkingSet64 / 1048576.0;
            var peakBeforeMb = process.PeakWorkingSet64 / 1048576.0;

            var jobs = new CountingJobClient();
            var planner = ActivatorUtilities.CreateInstance<DeliveryPlanner>(services, (IBackgroundJobClient)jobs);
            clock.Restart();
            var dryRun = await planner.PlanAsync(new SendRequest("post", postId, Cadence.Instant, null, null, DryRun: true, "benchmark"), Ct);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"dry run (streams and counts recipients, writes nothing): {clock.Elapsed.TotalSeconds:F1} s for {dryRun.Audience.Values.Sum():N0}"));
            clock.Restart();
            var plan = await planner.PlanAsync(new SendRequest("post", postId, Cadence.Instant, null, null, DryRun: false, "benchmark"), Ct);
            var seconds = clock.Elapsed.TotalSeconds;
            process.Refresh();

            var rows = plan.Audience.Values.Sum();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"planned send {plan.SendId}: {rows:N0} ledger rows ({string.Join(", ", plan.Audience.Select(a => $"{a.Key} {a.Value:N0}"))}), {jobs.Count:N0} dispatch jobs"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"planning: {seconds:F1} s, {rows / seconds:N0} rows/s (target 30 s)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"working set: {beforeMb:F0} MB before planning, peak {process.PeakWorkingSet64 / 1048576.0:F0} MB (peak before planning {peakBeforeMb:F0} MB; target 300 MB)"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    private static NewSubscriber NewSubscriber(int i)
    {
        IReadOnlyList<string> topics = (i % 4) switch
        {
            0 => [],
            1 => ["sanctions"],
            2 => ["sanctions", "russia"],
            _ => ["nuclear", "sanctions"],
        };
        return i % 2 == 0
            ? new NewSubscriber($"reader{i}@example.org", null, topics, Cadence.Instant)
            : new NewSubscriber(null, 1_000_000_000L + i, topics, Cadence.Instant);
    }

    /// <summary>Counts enqueued jobs; the benchmark measures planning, not Hangfire's storage.</summary>
    internal sealed class CountingJobClient : IBackgroundJobClient
    {
        public int Count { get; private set; }

        public string Create(Job job, IState state) => (++Count).ToString(CultureInfo.InvariantCulture);

        public bool ChangeState(string jobId, IState state, string expectedState) => true;
    }
}
