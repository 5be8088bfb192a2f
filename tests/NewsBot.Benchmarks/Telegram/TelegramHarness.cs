using System.Diagnostics;
using System.Globalization;

using Microsoft.Extensions.DependencyInjection;

using NewsBot.Cli;
using NewsBot.Delivery;
using NewsBot.Subscribers;
using NewsBot.Telegram;
using NewsBot.Tests.Telegram;

namespace NewsBot.Benchmarks.Telegram;

/// <summary>
/// <c>-- telegram [seconds]</c>: the Telegram channel, wired as the application wires it, against the in-process fake
/// Bot API. (a) The fake without limits and the channel at 1000/s (paid broadcast): messages per second over 5,000
/// sends (target 3,000/s). (b) The fake enforcing Telegram's 30/s and one message per second per chat, the channel at
/// 30/s, for <c>seconds</c> (default 60) to many chats: the achieved rate (target 97% of 30/s) and the 429s (target 0).
/// </summary>
public static class TelegramHarness
{
    public static async Task RunAsync(int seconds)
    {
        await using var fake = await FakeBotApi.StartAsync();

        // Warm-up: JIT, connections.
        await SendAsync(fake, 1000, 500, TimeSpan.MaxValue, 128);
        var (raw, rawElapsed) = await SendRawAsync(fake, 5_000, 128);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"(a0) Telegram.Bot client alone against the fake, no lane: {raw:N0} messages in {rawElapsed.TotalSeconds:F2} s = {raw / rawElapsed.TotalSeconds:N0}/s"));
        var (sent, elapsed) = await SendAsync(fake, 1000, 5_000, TimeSpan.MaxValue, 128);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"(a) unthrottled, channel at 1000/s: {sent:N0} messages in {elapsed.TotalSeconds:F2} s = {sent / elapsed.TotalSeconds:N0}/s (target 3,000/s); 429s: {fake.TooManyRequests}"));

        fake.MessagesPerSecond = 30;
        fake.PerChatPerSecond = 1;
        var before = fake.TooManyRequests;
        (sent, elapsed) = await SendAsync(fake, 30, int.MaxValue, TimeSpan.FromSeconds(seconds), 64);
        var rate = sent / elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"(b) fake at 30/s, channel at 30/s for {seconds} s: {sent:N0} messages in {elapsed.TotalSeconds:F2} s = {rate:F2}/s ({rate / 30:P1} of 30/s, target 97%); 429s: {fake.TooManyRequests - before} (target 0)"));
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

    /// <summary>Sends to distinct chats from <paramref name="concurrency"/> workers until <paramref name="count"/> or <paramref name="duration"/>.</summary>
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
            var channel = services.GetServices<IChannel>().Last(c => c.Name == Channels.Telegram);
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
        finally
        {
            (services as IDisposable)?.Dispose();
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }
}
