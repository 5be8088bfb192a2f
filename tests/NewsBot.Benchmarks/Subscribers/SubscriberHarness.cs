using System.Diagnostics;
using System.Globalization;

using NewsBot.Storage;
using NewsBot.Subscribers;

namespace NewsBot.Benchmarks.Subscribers;

/// <summary>
/// <c>-- subscribers [count] [pageSize]</c>: seeds <c>count</c> subscribers (default 1,000,000) into a fresh
/// database with <see cref="SubscriberStore.SeedAsync"/>, then streams recipients with three filters and prints
/// the time, the rate and the largest managed heap seen while streaming (it must not grow with the count).
/// The planner's budget is 30 s for 1,000,000 recipients into ledger rows, so the stream must run well above
/// 200,000 recipients/s.
/// </summary>
public static class SubscriberHarness
{
    private static readonly string[] Topics = ["sanctions", "nuclear", "north-korea", "russia", "ukraine", "japan-politics", "abduction", "china"];
    private static readonly string[] TimeZones = ["UTC", "Asia/Tokyo", "Europe/Paris", "America/New_York"];

    public static async Task RunAsync(int count, int pageSize)
    {
        var directory = Path.Combine(Path.GetTempPath(), "newsbot-subscriber-harness", Guid.NewGuid().ToString("n"));
        try
        {
            var db = Db.Sqlite(Path.Combine(directory, "newsbot.db"));
            await new Migrator(db).MigrateAsync(CancellationToken.None);
            var store = new SubscriberStore(db, TimeProvider.System);

            var seed = Stopwatch.StartNew();
            await store.SeedAsync(Generate(count), CancellationToken.None);
            seed.Stop();
            Console.WriteLine($"seed {count:N0} subscribers: {seed.Elapsed.TotalSeconds:F1} s ({count / seed.Elapsed.TotalSeconds:N0}/s), database {new FileInfo(Path.Combine(directory, "newsbot.db")).Length / 1048576.0:F0} MiB");

            RecipientFilter[] filters =
            [
                new([Channels.Email, Channels.Telegram], null, null),
                new([Channels.Email, Channels.Telegram], null, ["sanctions"]),
                new([Channels.Email], Cadence.Daily, ["sanctions", "nuclear"]),
            ];
            foreach (var filter in filters)
            {
                GC.Collect();
                var baseline = GC.GetTotalMemory(forceFullCollection: true);
                var largest = baseline;
                var streamed = 0;
                var watch = Stopwatch.StartNew();
                await foreach (var recipient in store.StreamRecipientsAsync(filter, pageSize, CancellationToken.None))
                {
                    if (++streamed % 50_000 == 0)
                    {
                        largest = Math.Max(largest, GC.GetTotalMemory(forceFullCollection: false));
                    }
                }

                watch.Stop();
                Console.WriteLine(
                    $"stream channels={string.Join('+', filter.Channels)} cadence={filter.Cadence?.ToString() ?? "any"} topics={(filter.AnyOfTopics is null ? "any" : string.Join('+', filter.AnyOfTopics))}: "
                    + $"{streamed:N0} recipients in {watch.Elapsed.TotalSeconds:F2} s ({streamed / watch.Elapsed.TotalSeconds:N0}/s), "
                    + $"managed heap at most {(largest - baseline) / 1048576.0:F1} MiB above the start");
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// Deterministic subscribers: 4 in 5 by email, 2 in 5 on Telegram (some on both), half on all topics and the
    /// rest on one or two topics; cadence instant 60 %, daily 25 %, weekly 10 %, off 5 %.
    /// </summary>
    private static IEnumerable<NewSubscriber> Generate(int count)
    {
        for (var i = 1; i <= count; i++)
        {
            var email = i % 5 != 0 ? $"reader{i}@example.com" : null;
            long? telegram = i % 5 is 0 or 2 ? 100_000_000L + i : null;
            string[] topics = (i % 4) switch
            {
                0 or 1 => [],
                2 => [Topics[i % Topics.Length]],
                _ => [Topics[i % Topics.Length], Topics[(i / 7) % Topics.Length]],
            };
            var cadence = (i % 20) switch
            {
                < 12 => Cadence.Instant,
                < 17 => Cadence.Daily,
                < 19 => Cadence.Weekly,
                _ => Cadence.Off,
            };
            yield return new NewSubscriber(email, telegram, topics, cadence, TimeZones[i % TimeZones.Length], "Reader " + i.ToString(CultureInfo.InvariantCulture));
        }
    }
}
