using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

using Microsoft.Extensions.DependencyInjection;

using NewsBot.Benchmarks.Templates;
using NewsBot.Cli;
using NewsBot.Delivery;
using NewsBot.Email;
using NewsBot.Storage;
using NewsBot.Subscribers;
using NewsBot.Templates;

namespace NewsBot.Benchmarks.Email;

/// <summary>
/// <c>-- email [count] [connections] [rounds]</c>: <c>count</c> (default 100,000) personalised 10-post digests through the
/// email channel, wired as the application wires it, to postfix's <c>smtp-sink</c> over <c>connections</c> (default 4)
/// pooled SMTP connections: each message is personalised, composed (MIME, List-Unsubscribe, 7-bit encoding) and
/// sent. postfix's <c>smtp-source</c> sends as many messages of the same size over as many connections to the same
/// sink, and the two take turns for <c>rounds</c> rounds (default 5), smtp-source first and last: each NewsBot round
/// is a fraction of the mean of the smtp-source runs either side of it (target 60%), and the median round is the
/// figure, since either program's rate swings by a third from run to run on this machine. With <c>rsa-sha256</c> or
/// <c>ed25519-sha256</c> every message is DKIM-signed with the test suite's key of that kind. Also printed: the peak
/// working set sampled over the rounds (memory must stay flat), the process CPU time per message (less sensitive to
/// other load on the machine than the rate), and each stage on one thread without the network.
/// </summary>
public static class EmailHarness
{
    private const string SinkPath = "/usr/sbin/smtp-sink";
    private const string SourcePath = "/usr/sbin/smtp-source";

    public static async Task<int> RunAsync(int count, int connections, int rounds, string dkim)
    {
        string? dkimKey = dkim switch
        {
            "none" => null,
            NewsBot.Email.DkimOptions.RsaSha256 => "dkim-rsa.pem",
            NewsBot.Email.DkimOptions.Ed25519Sha256 => "dkim-ed25519.pem",
            _ => throw new ArgumentException($"DKIM '{dkim}' is none, {NewsBot.Email.DkimOptions.RsaSha256} or {NewsBot.Email.DkimOptions.Ed25519Sha256}", nameof(dkim)),
        };
        if (!File.Exists(SinkPath) || !File.Exists(SourcePath))
        {
            Console.Error.WriteLine($"{SinkPath} and {SourcePath} come with Debian's postfix package: apt-get install postfix (the daemon need not run).");
            return 1;
        }

        var port = FreePort();
        // -u: smtp-sink refuses to run as root without a user to switch to. A backlog of 1024 as in postfix's own tests.
        using var sink = Process.Start(new ProcessStartInfo(SinkPath)
        {
            ArgumentList = { "-u", "nobody", $"127.0.0.1:{port}", "1024" },
        })!;
        var dataDirectory = Path.Combine(Path.GetTempPath(), "newsbot-email-bench", Guid.NewGuid().ToString("n"));
        try
        {
            await Task.Delay(500);
            var settings = new Dictionary<string, string?>
            {
                ["NewsBot:DataDirectory"] = dataDirectory,
                ["NewsBot:Email:From"] = "Sample News <news@news.example>",
                ["NewsBot:Email:UnsubscribeMailto"] = "unsubscribe@news.example",
                ["NewsBot:Email:Smtp:Host"] = "127.0.0.1",
                ["NewsBot:Email:Smtp:Port"] = port.ToString(CultureInfo.InvariantCulture),
                ["NewsBot:Email:Smtp:Security"] = "None",
                ["NewsBot:Email:Smtp:PoolSize"] = connections.ToString(CultureInfo.InvariantCulture),
            };
            if (dkimKey is not null)
            {
                settings["NewsBot:Email:Dkim:Domain"] = "news.example";
                settings["NewsBot:Email:Dkim:Selector"] = "newsbot";
                settings["NewsBot:Email:Dkim:Algorithm"] = dkim;
                settings["NewsBot:Email:Dkim:PrivateKeyPath"] = Path.Combine(Corpus.RepositoryRoot(), "tests", "NewsBot.Tests", "Fixtures", "email", dkimKey);
            }

            var services = CliApp.BuildServices(settings);
            await services.MigrateStorageAsync(CancellationToken.None);
            await using var channel = services.GetRequiredService<EmailChannel>();
            var composer = services.GetRequiredService<EmailComposer>();
            var renderer = new TemplateRenderer(new TemplateOptions { SiteName = "Sample News", PublicBaseUrl = "https://news.example" });
            var html = renderer.RenderDigest(SampleDigest.Posts(10), SampleDigest.Period, MessageFormat.EmailHtml)[0];
            var text = renderer.RenderDigest(SampleDigest.Posts(10), SampleDigest.Period, MessageFormat.EmailText)[0];
            OutgoingMessage Message(int i)
            {
                var links = SampleDigest.Links(i);
                return new OutgoingMessage($"send:1:sub:{i}:email", Channels.Email, $"reader{i}@example.org", html.Subject, html.Personalise(links), text.Personalise(links), links);
            }

            using var sample = new MemoryStream();
            composer.Compose(Message(1), new MimeKit.MailboxAddress("", "reader1@example.org")).WriteTo(sample);
            var size = (int)sample.Length;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"machine: {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load {LoadAverage()}; message {size:N0} bytes, {(dkimKey is null ? "unsigned" : "DKIM " + dkim)}; {connections} connections; {(System.Runtime.GCSettings.IsServerGC ? "server GC, as the service runs" : "workstation GC: the service runs server GC, set DOTNET_gcServer=1")}"));

            MeasureStages(composer, html, text);
            // Warm-up (JIT, the pool's connections), with the runtime's allocation sample on: the listener costs
            // CPU of its own, so it is off for the measured rounds.
            using (var allocations = new AllocationSampler())
            {
                await SendAsync(channel, Message, 1, 5_000, connections);
                Console.WriteLine("allocations sampled during the warm-up (type, large object heap or not): " + allocations.Top(8));
            }

            var process = Process.GetCurrentProcess();
            process.Refresh();
            var startSet = process.WorkingSet64;
            var liveBefore = GC.GetTotalMemory(forceFullCollection: true);
            var sources = new List<double> { await RunSourceAsync(port, count, connections, size) };
            var results = new List<(double Rate, double CpuMicroseconds, long PeakSet)>();
            var allocated = GC.GetTotalAllocatedBytes();
            var collections = GC.CollectionCount(2);
            for (var round = 0; round < rounds; round++)
            {
                var peak = 0L;
                using var stop = new CancellationTokenSource();
                var sampler = Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        process.Refresh();
                        peak = Math.Max(peak, process.WorkingSet64);
                        await Task.Delay(50);
                    }
                });
                process.Refresh();
                var cpu = process.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                // Each round to new recipients, so no two messages of the run are the same.
                var failed = await SendAsync(channel, Message, 10_001 + round * count, count, connections);
                clock.Stop();
                process.Refresh();
                cpu = process.TotalProcessorTime - cpu;
                await stop.CancelAsync();
                await sampler;
                if (failed > 0)
                {
                    Console.Error.WriteLine($"round {round + 1}: {failed} messages failed");
                    return 1;
                }

                sources.Add(await RunSourceAsync(port, count, connections, size));
                var rate = count / clock.Elapsed.TotalSeconds;
                var source = (sources[^2] + sources[^1]) / 2;
                results.Add((rate, cpu.TotalMicroseconds / count, peak));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round + 1}: smtp-source {sources[^2]:N0}/s, NewsBot {rate:N0}/s in {clock.Elapsed.TotalSeconds:F1} s, smtp-source {sources[^1]:N0}/s: {rate / source:P0} of smtp-source; NewsBot's CPU {cpu.TotalMicroseconds / count:F0} µs per message; peak working set {peak / 1048576.0:F0} MB"));
            }

            allocated = GC.GetTotalAllocatedBytes() - allocated;
            collections = GC.CollectionCount(2) - collections;
            var liveAfter = GC.GetTotalMemory(forceFullCollection: true);
            var fractions = results.Select((r, i) => r.Rate / ((sources[i] + sources[i + 1]) / 2)).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median of {rounds} rounds of {count:N0} digests ({size:N0} bytes, {connections} connections): NewsBot {Median(results.Select(r => r.Rate)):N0}/s (target 2,000/s, slowest round {results.Min(r => r.Rate):N0}/s), {Median(fractions):P0} of smtp-source (target 60%, rounds {string.Join(", ", fractions.Select(f => f.ToString("P0", CultureInfo.InvariantCulture)))}); NewsBot's CPU {Median(results.Select(r => r.CpuMicroseconds)):F0} µs per message"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"working set: {startSet / 1048576.0:F0} MB after warm-up, peak per round {string.Join(", ", results.Select(r => (r.PeakSet / 1048576.0).ToString("F0", CultureInfo.InvariantCulture)))} MB; {allocated / (double)(count * rounds) / 1024:N0} KB allocated per message, {collections} gen2 GCs; live heap {liveBefore / 1048576.0:F0} MB before and {liveAfter / 1048576.0:F0} MB after (full GC); SMTP sessions opened: {channel.ConnectionsOpened}; load after {LoadAverage()}"));
            return 0;
        }
        finally
        {
            sink.Kill();
            await sink.WaitForExitAsync();
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    /// <summary>
    /// Each stage of a message on one thread (its own CPU time), without the network: personalising both parts,
    /// composing the MIME message, and writing it as the SMTP client does (8-bit allowed) to a stream that discards it.
    /// </summary>
    private static void MeasureStages(EmailComposer composer, RenderedMessage html, RenderedMessage text)
    {
        const int Count = 5_000;
        var format = MimeKit.FormatOptions.Default.Clone();
        format.NewLineFormat = MimeKit.NewLineFormat.Dos;
        var stages = new List<string>();
        void Measure(string name, Action<int> stage)
        {
            for (var i = 0; i < 200; i++)
            {
                stage(i);
            }

            // The best of three rounds of this thread's own CPU time: other processes and the server GC's threads do
            // not count (the allocation does), so the figure holds on a loaded machine.
            var best = long.MaxValue;
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            for (var round = 0; round < 3; round++)
            {
                var cpu = ThreadCpuNanoseconds();
                for (var i = 0; i < Count; i++)
                {
                    stage(i);
                }

                best = Math.Min(best, ThreadCpuNanoseconds() - cpu);
            }

            allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            stages.Add(string.Create(CultureInfo.InvariantCulture,
                $"{name} {best / 1000.0 / Count:F0} µs CPU, {allocated / (3.0 * Count) / 1024:F1} KB"));
        }

        OutgoingMessage Personalised(int i)
        {
            var links = SampleDigest.Links(i);
            return new OutgoingMessage($"send:1:sub:{i}:email", Channels.Email, $"reader{i}@example.org", html.Subject, html.Personalise(links), text.Personalise(links), links);
        }

        MimeKit.MimeMessage Composed(int i) => composer.Compose(Personalised(i), new MimeKit.MailboxAddress("", $"reader{i}@example.org"));
        void Write(int i)
        {
            using var email = Composed(i);
            email.Prepare(MimeKit.EncodingConstraint.EightBit, 998);
            email.WriteTo(format, Stream.Null);
        }

        // Every stage's code at its final JIT tier before any is measured.
        for (var i = 0; i < 3_000; i++)
        {
            Write(i);
        }

        Measure("personalise", i => Personalised(i));
        // Disposed as the channel disposes them: an undisposed message waits for its finalizer.
        Measure("+ compose", i => Composed(i).Dispose());
        // MailKit prepares with the SMTP line limit (RFC 5321 §4.5.3.1.6: 998 octets) when the relay takes 8BITMIME.
        Measure("+ prepare", i =>
        {
            using var email = Composed(i);
            email.Prepare(MimeKit.EncodingConstraint.EightBit, 998);
        });
        Measure("+ write", Write);
        Console.WriteLine("per message on one thread, no network, stages cumulative: " + string.Join("; ", stages));
    }

    /// <summary>Sends messages <paramref name="first"/>.. from twice as many workers as connections, so composing overlaps sending.</summary>
    private static async Task<int> SendAsync(EmailChannel channel, Func<int, OutgoingMessage> message, int first, int count, int connections)
    {
        var next = first - 1;
        var last = first + count - 1;
        var failed = 0;
        await Task.WhenAll(Enumerable.Range(0, connections * 2).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) is var i && i <= last)
            {
                var result = await channel.SendAsync(message(i), CancellationToken.None);
                if (result.Outcome != ChannelOutcome.Sent)
                {
                    if (Interlocked.Increment(ref failed) == 1)
                    {
                        Console.Error.WriteLine($"first failure: {result.Error}");
                    }
                }
            }
        })));
        return failed;
    }

    /// <summary>postfix's load generator: messages per second.</summary>
    private static async Task<double> RunSourceAsync(int port, int count, int connections, int size)
    {
        var clock = Stopwatch.StartNew();
        using var source = Process.Start(new ProcessStartInfo(SourcePath)
        {
            ArgumentList =
            {
                "-d", "-s", connections.ToString(CultureInfo.InvariantCulture), "-m", count.ToString(CultureInfo.InvariantCulture),
                "-l", size.ToString(CultureInfo.InvariantCulture), "-f", "news@news.example", "-t", "reader@example.org", $"127.0.0.1:{port}",
            },
            RedirectStandardError = true,
        })!;
        var error = await source.StandardError.ReadToEndAsync();
        await source.WaitForExitAsync();
        clock.Stop();
        if (source.ExitCode != 0)
        {
            throw new InvalidOperationException($"smtp-source exited with {source.ExitCode}: {error}");
        }

        return count / clock.Elapsed.TotalSeconds;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>This thread's time on a CPU in nanoseconds, as the Linux scheduler counts it (proc(5): /proc/[pid]/schedstat).</summary>
    private static long ThreadCpuNanoseconds() =>
        long.Parse(File.ReadAllText("/proc/thread-self/schedstat").Split(' ')[0], CultureInfo.InvariantCulture);

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    /// <summary>The runtime's allocation sample (an event about every 100 KB allocated) counted by type.</summary>
    private sealed class AllocationSampler : System.Diagnostics.Tracing.EventListener
    {
        private readonly ConcurrentDictionary<string, long> _bytes = new();

        public string Top(int count)
        {
            var total = _bytes.Values.Sum();
            return string.Join(", ", _bytes.OrderByDescending(p => p.Value).Take(count)
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value * 100.0 / total:F0}%")));
        }

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                // 0x1: GC keyword; Verbose level carries GCAllocationTick.
                EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
            }
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.Payload is null)
            {
                return;
            }

            var names = e.PayloadNames!;
            var type = names.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
            var kind = names.IndexOf("AllocationKind") is var k and >= 0 && Convert.ToInt32(e.Payload[k], CultureInfo.InvariantCulture) == 1 ? " (LOH)" : "";
            var amount = names.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a], CultureInfo.InvariantCulture) : 100_000;
            _bytes.AddOrUpdate(type + kind, amount, (_, v) => v + amount);
        }
    }
}
