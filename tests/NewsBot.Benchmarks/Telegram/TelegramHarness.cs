using System.Diagnostics;
using System.Globalization;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using NewsBot.Cli;
using NewsBot.Delivery;
using NewsBot.Feeds;
using NewsBot.Posts;
using NewsBot.Storage;
using NewsBot.Subscribers;
using NewsBot.Telegram;
using NewsBot.Tests.Telegram;

namespace NewsBot.Benchmarks.Telegram;

/// <summary>
/// <c>-- telegram [seconds] [chats]</c>: the Telegram channel against the in-process fake Bot API.
/// (a1) The channel's own overhead: a <see cref="TelegramChannel"/> whose lane never waits (built here with limits no
/// configuration may set: a global pace of int.MaxValue a second and no per-chat interval), against the fake without
/// limits (target 3,000/s). (a) The same, wired as the application wires it at the 1000/s paid-broadcast cap.
/// (b) The fake enforcing Telegram's 30/s and one message per second per chat, the channel at 30/s, for
/// <c>seconds</c> (default 60): the achieved rate (target 97% of 30/s) and the 429s (target 0).
/// (c) The ETA: the dry run an admin runs before sending a post to 100,000 Telegram subscribers at 30/s, then a real
/// send scaled down to <c>chats</c> (default 1,800: 60 s at 30/s) through the CLI (planner, Hangfire dispatch jobs,
/// the channel) against the fake at 30/s: measured against predicted time.
/// </summary>
public static class TelegramHarness
{
    public static async Task RunAsync(int seconds, int chats)
    {
        await using var fake = await FakeBotApi.StartAsync();

        // Warm-up: JIT, connections.
        await SendAsync(fake, 1000, 500, TimeSpan.MaxValue, 128);
        await SendUnlimitedAsync(fake, 2_000, 128);
        var (raw, rawElapsed) = await SendRawAsync(fake, 20_000, 128);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"(a0) Telegram.Bot client alone against the fake, no lane: {raw:N0} messages in {rawElapsed.TotalSeconds:F2} s = {raw / rawElapsed.TotalSeconds:N0}/s"));
        var (unlimited, unlimitedElapsed) = await SendUnlimitedAsync(fake, 20_000, 128);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"(a1) channel, lane never waiting, fake without limits: {unlimited:N0} messages in {unlimitedElapsed.TotalSeconds:F2} s = {unlimited / unlimitedElapsed.TotalSeconds:N0}/s (target 3,000/s)"));
        var (reserved, reserveElapsed) = await ReserveAsync(100_000, 128);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"(a2) the shared lane alone (SQLite send_lanes, never waiting): {reserved:N0} slots in {reserveElapsed.TotalSeconds:F2} s = {reserved / reserveElapsed.TotalSeconds:N0}/s"));
        var (sent, elapsed) = await SendAsync(fake, 1000, 5_000, TimeSpan.MaxValue, 128);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"(a) channel as wired at the 1000/s paid-broadcast cap, fake without limits: {sent:N0} messages in {elapsed.TotalSeconds:F2} s = {sent / elapsed.TotalSeconds:N0}/s (the cap); 429s: {fake.TooManyRequests}"));

        fake.MessagesPerSecond = 30;
        fake.PerChatPerSecond = 1;
        var before = fake.TooManyRequests;
        (sent, elapsed) = await SendAsync(fake, 30, int.MaxValue, TimeSpan.FromSeconds(seconds), 64);
        var rate = sent / elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"(b) fake at 30/s, channel at 30/s for {seconds} s: {sent:N0} messages in {elapsed.TotalSeconds:F2} s = {rate:F2}/s ({rate / 30:P1} of 30/s, target 97%); 429s: {fake.TooManyRequests - before} (target 0)"));

        await using var etaFake = await FakeBotApi.StartAsync();
        var (dryRun, _) = await RunSendAsync(etaFake, 100_000, dryRun: true);
        Console.WriteLine("(c) 100,000 Telegram subscribers at 30/s, the CLI's dry run: " + dryRun);
        etaFake.MessagesPerSecond = 30;
        etaFake.PerChatPerSecond = 1;
        var (predicted, _) = await RunSendAsync(etaFake, chats, dryRun: true);
        var (sendLine, sendElapsed) = await RunSendAsync(etaFake, chats, dryRun: false);
        var received = etaFake.Messages.ToList();
        var window = received.Count > 1 ? received.Max(m => m.At) - received.Min(m => m.At) : TimeSpan.Zero;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"(c) scaled down to {chats:N0} chats, predicted: {predicted}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"(c) measured: `send post` took {sendElapsed.TotalSeconds:F1} s (CLI start, planning, Hangfire, dispatch), first to last message {window.TotalSeconds:F1} s; {received.Count:N0} messages accepted, 429s: {etaFake.TooManyRequests}; last line: {sendLine}"));
    }

    /// <summary>
    /// Seeds <paramref name="chats"/> Telegram subscribers and a post, then runs <c>send post --channel telegram</c>
    /// through the CLI, as an admin would, with the channel at 30/s against <paramref name="fake"/>. Returns the
    /// CLI's last output line and how long the command took.
    /// </summary>
    private static async Task<(string LastLine, TimeSpan Elapsed)> RunSendAsync(FakeBotApi fake, int chats, bool dryRun)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "newsbot-telegram", Guid.NewGuid().ToString("n"));
        var configuration = new Dictionary<string, string?>
        {
            ["NewsBot:DataDirectory"] = dataDirectory,
            ["NewsBot:Telegram:BotToken"] = fake.Token,
            ["NewsBot:Telegram:ApiBaseUrl"] = fake.BaseUrl,
            ["NewsBot:Telegram:GlobalMessagesPerSecond"] = "30",
        };
        try
        {
            long postId;
            var services = CliApp.BuildServices(configuration);
            try
            {
                await services.MigrateStorageAsync(CancellationToken.None);
                await services.GetRequiredService<FeedStateStore>().EnsureAsync("blog", "https://blog.example/feed", CancellationToken.None);
                var saved = await services.GetRequiredService<PostStore>().SaveAsync("blog",
                    [new NewPost("p1", "https://blog.example/p1", "Sanctions widen & tankers wait", null, DateTimeOffset.UtcNow, null, [], ["sanctions"], "<p>Body</p>", "The embargo now covers refined fuel.", "h1")],
                    CancellationToken.None);
                postId = saved.InsertedIds[0];
                await services.GetRequiredService<SubscriberStore>().SeedAsync(
                    Enumerable.Range(1, chats).Select(i => new NewSubscriber(null, 1_000_000 + i, [], Cadence.Instant)), CancellationToken.None);
            }
            finally
            {
                (services as IDisposable)?.Dispose();
            }

            using var output = new StringWriter();
            using var error = new StringWriter();
            string[] args = ["send", "post", postId.ToString(CultureInfo.InvariantCulture), "--channel", "telegram", .. dryRun ? (string[])["--dry-run"] : []];
            var clock = Stopwatch.StartNew();
            var exitCode = await CliApp.RunAsync(args, output, error, configuration);
            clock.Stop();
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"send post exited {exitCode}: {error}");
            }

            var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return (string.Join(" / ", lines.Where(l => !l.StartsWith('['))) + (lines.LastOrDefault(l => l.StartsWith('[')) is { } progress ? " / " + progress : ""), clock.Elapsed);
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

    /// <summary>
    /// The channel's own cost per message: a <see cref="TelegramChannel"/> built directly, bypassing the options
    /// validation, with a lane that never waits (global pace int.MaxValue a second: a zero interval; no per-chat
    /// interval). Configuration can never set these; they exist only to take the limits out of the measurement.
    /// </summary>
    private static async Task<(int Sent, TimeSpan Elapsed)> SendUnlimitedAsync(FakeBotApi fake, int count, int concurrency)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "newsbot-telegram", Guid.NewGuid().ToString("n"));
        var services = CliApp.BuildServices(new Dictionary<string, string?> { ["NewsBot:DataDirectory"] = dataDirectory });
        var options = new TelegramOptions
        {
            BotToken = fake.Token,
            ApiBaseUrl = fake.BaseUrl,
            GlobalMessagesPerSecond = int.MaxValue,
            PerChatInterval = TimeSpan.Zero,
            GroupMessagesPerMinute = int.MaxValue,
        };
        // The lane's slots are in the database (send_lanes), as in the application.
        await services.MigrateStorageAsync(CancellationToken.None);
        using var channel = new TelegramChannel(Options.Create(options), services.GetRequiredService<SubscriberStore>(), services.GetRequiredService<Db>(),
            TimeProvider.System, services.GetRequiredService<ILogger<TelegramChannel>>());
        try
        {
            return await SendManyAsync(channel, count, TimeSpan.MaxValue, concurrency);
        }
        finally
        {
            (services as IDisposable)?.Dispose();
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    /// <summary>
    /// The database lane's own cost: <paramref name="concurrency"/> senders reserving slots to distinct chats on a lane
    /// that never waits (a global pace of int.MaxValue a second, as in (a1)), on the SQLite store of a fresh data directory.
    /// </summary>
    private static async Task<(int Reserved, TimeSpan Elapsed)> ReserveAsync(int count, int concurrency)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "newsbot-telegram", Guid.NewGuid().ToString("n"));
        var services = CliApp.BuildServices(new Dictionary<string, string?> { ["NewsBot:DataDirectory"] = dataDirectory });
        try
        {
            await services.MigrateStorageAsync(CancellationToken.None);
            var lane = new SendLane(services.GetRequiredService<Db>(), TimeProvider.System, "telegram:1", int.MaxValue, TimeSpan.Zero, int.MaxValue);
            var next = 0;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) is var i && i <= count)
                {
                    await lane.ReserveAsync(i, CancellationToken.None);
                }
            }));
            return (count, clock.Elapsed);
        }
        finally
        {
            (services as IDisposable)?.Dispose();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    /// <summary>What the client and the fake manage without the channel: the ceiling of (a).</summary>
    private static async Task<(int Sent, TimeSpan Elapsed)> SendRawAsync(FakeBotApi fake, int count, int concurrency)
    {
        using var http = new HttpClient();
        var client = new global::Telegram.Bot.TelegramBotClient(new global::Telegram.Bot.TelegramBotClientOptions(fake.Token, fake.BaseUrl) { RetryCount = 0 }, http);
        var next = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) is var i && i <= count)
            {
                await global::Telegram.Bot.TelegramBotClientExtensions.SendMessage(client, i, $"<b>Post</b> number {i} &amp; more",
                    global::Telegram.Bot.Types.Enums.ParseMode.Html);
            }
        }));
        return (count, clock.Elapsed);
    }

    /// <summary>The channel as the application wires it, at <paramref name="perSecond"/>.</summary>
    private static async Task<(int Sent, TimeSpan Elapsed)> SendAsync(FakeBotApi fake, int perSecond, int count, TimeSpan duration, int concurrency)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "newsbot-telegram", Guid.NewGuid().ToString("n"));
        var services = CliApp.BuildServices(new Dictionary<string, string?>
        {
            ["NewsBot:DataDirectory"] = dataDirectory,
            ["NewsBot:Telegram:BotToken"] = fake.Token,
            ["NewsBot:Telegram:ApiBaseUrl"] = fake.BaseUrl,
            ["NewsBot:Telegram:GlobalMessagesPerSecond"] = perSecond.ToString(CultureInfo.InvariantCulture),
            ["NewsBot:Telegram:AllowPaidBroadcast"] = perSecond > 30 ? "true" : "false",
        });
        try
        {
            await services.MigrateStorageAsync(CancellationToken.None);
            return await SendManyAsync(services.GetServices<IChannel>().Last(c => c.Name == Channels.Telegram), count, duration, concurrency);
        }
        finally
        {
            (services as IDisposable)?.Dispose();
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    /// <summary>Sends to distinct chats from <paramref name="concurrency"/> workers until <paramref name="count"/> or <paramref name="duration"/>.</summary>
    private static async Task<(int Sent, TimeSpan Elapsed)> SendManyAsync(IChannel channel, int count, TimeSpan duration, int concurrency)
    {
        var next = 0;
        var sent = 0;
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (clock.Elapsed < duration)
            {
                var i = Interlocked.Increment(ref next);
                if (i > count)
                {
                    return;
                }

                var chat = (i % 100_000) + 1;
                var result = await channel.SendAsync(new OutgoingMessage($"send:1:sub:{i}:telegram", Channels.Telegram,
                    chat.ToString(CultureInfo.InvariantCulture), "subject", $"<b>Post</b> number {i} &amp; more", null), CancellationToken.None);
                if (result.Outcome == ChannelOutcome.Sent)
                {
                    Interlocked.Increment(ref sent);
                }
                else
                {
                    lock (failures)
                    {
                        failures.Add(result.Error ?? result.Outcome.ToString());
                    }
                }
            }
        }));
        clock.Stop();
        foreach (var failure in failures.Distinct().Take(5))
        {
            Console.WriteLine("  failed: " + failure);
        }

        return (sent, clock.Elapsed);
    }
}
