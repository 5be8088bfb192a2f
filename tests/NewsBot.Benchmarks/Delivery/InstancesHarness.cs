using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Sockets;

using Hangfire;

using Microsoft.Extensions.DependencyInjection;

using NewsBot.Cli;
using NewsBot.Delivery;
using NewsBot.Feeds;
using NewsBot.Posts;
using NewsBot.Storage;
using NewsBot.Subscribers;

using Npgsql;

namespace NewsBot.Benchmarks.Delivery;

/// <summary>
/// <c>-- instances [recipients] [maxInstances] [connectionString]</c>: one post send to <c>recipients</c> outbox email
/// subscribers on PostgreSQL (the server of the argument or of <c>NEWSBOT_TEST_POSTGRES</c>; a fresh database,
/// dropped afterwards). Planning is one instance's work whatever their number (one request, one planner): it is
/// timed once, here, with the planner the service runs, its dispatch jobs held back. Sending is then timed with
/// 1, 2, ... <c>maxInstances</c> instances of the built service (child processes): the ledger goes back to pending,
/// the outbox is emptied, and the dispatch jobs go into the shared Hangfire.PostgreSql queue for the instances to
/// take. For each: rows per second (enqueue to the send's finish) and the CPU the PostgreSQL server and the instances
/// used, as a share of the machine, from <c>/proc/&lt;pid&gt;/stat</c>.
/// </summary>
public static class InstancesHarness
{
    private const string AdminToken = "benchmark-admin-token-0123456789";
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly double TicksPerSecond = 100; // USER_HZ: proc(5) reports utime and stime in clock ticks, 100 on Linux.

    public static async Task<int> RunAsync(int recipients, int maxInstances, string? connectionString)
    {
        var server = connectionString ?? Environment.GetEnvironmentVariable("NEWSBOT_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(server))
        {
            Console.Error.WriteLine("instances: give a PostgreSQL connection string as the third argument or in NEWSBOT_TEST_POSTGRES (eval \"$(.ci/postgres start)\")");
            return 2;
        }

        var database = "newsbot_bench_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync(server, $"CREATE DATABASE {database}");
        var connection = new NpgsqlConnectionStringBuilder(server) { Database = database }.ToString();
        var dataDirectory = Path.Combine(Path.GetTempPath(), "newsbot-instances", Guid.NewGuid().ToString("n"));
        // The instances' working directory and their shared outbox; the PostgreSQL store creates nothing here.
        Directory.CreateDirectory(dataDirectory);
        try
        {
            var services = CliApp.BuildServices(new Dictionary<string, string?>
            {
                ["NewsBot:DataDirectory"] = dataDirectory,
                ["NewsBot:Database:Provider"] = Db.PostgresqlProvider,
                ["NewsBot:Database:ConnectionString"] = connection,
            });
            await services.MigrateStorageAsync(Ct);
            await services.GetRequiredService<FeedStateStore>().EnsureAsync("blog", "https://blog.example/feed", Ct);
            var saved = await services.GetRequiredService<PostStore>().SaveAsync("blog",
                [new NewPost("p1", "https://blog.example/p1", "Sanctions widen", null, DateTimeOffset.UtcNow, null, [], ["sanctions"], "<p>Body</p>", "Summary", "h1")], Ct);
            var postId = saved.InsertedIds[0];
            var clock = Stopwatch.StartNew();
            await services.GetRequiredService<SubscriberStore>().SeedAsync(
                Enumerable.Range(0, recipients).Select(i => new NewSubscriber($"reader{i}@example.org", null, [], Cadence.Instant)), Ct);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load {LoadAverage()}; seeded {recipients:N0} email subscribers in {clock.Elapsed.TotalSeconds:F1} s"));
            var postmaster = await FindPostmasterAsync(connection);
            var sendId = await PlanAsync(services, postId, recipients, postmaster);
            Console.WriteLine("instances | sending rows/s | send (s) | first to last sent_at (s) | CPU of the machine: postgres / instances | load after");
            for (var count = 1; count <= maxInstances; count++)
            {
                await ResetQueueAsync(connection, Path.Combine(dataDirectory, "outbox"));
                var instances = await StartInstancesAsync(count, dataDirectory, connection);
                try
                {
                    // After the start: an instance's recovery would dispatch an unfinished send's rows as it comes up,
                    // before the others and before the clock.
                    await ExecuteAsync(connection, $"""
                        UPDATE deliveries SET state = 'pending', attempts = 0, sent_at = NULL, lease_owner = NULL, lease_until = NULL WHERE send_id = {sendId};
                        UPDATE sends SET finished_at = NULL WHERE id = {sendId}
                        """);
                    await SendAsync(count, recipients, sendId, instances, services, postmaster);
                }
                finally
                {
                    foreach (var (process, http) in instances)
                    {
                        process.Kill(entireProcessTree: true);
                        await process.WaitForExitAsync();
                        process.Dispose();
                        http.Dispose();
                    }
                }
            }

            return 0;
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(server, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            if (Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    /// <summary>Plans the send with the service's planner; its dispatch jobs are counted, not queued.</summary>
    private static async Task<long> PlanAsync(IServiceProvider services, long postId, int recipients, int? postmaster)
    {
        var database = new CpuSampler(() => postmaster is { } pid ? [.. ChildrenOf(pid).Append(pid)] : []);
        var self = new CpuSampler(() => [Environment.ProcessId]);
        database.Sample();
        self.Sample();
        var jobs = new PlanningHarness.CountingJobClient();
        var planner = ActivatorUtilities.CreateInstance<DeliveryPlanner>(services, (IBackgroundJobClient)jobs);
        var clock = Stopwatch.StartNew();
        var plan = await planner.PlanAsync(new SendRequest("post", postId, Cadence.Instant, [Channels.Email], null, DryRun: false, "benchmark"), Ct);
        var seconds = clock.Elapsed.TotalSeconds;
        database.Sample();
        self.Sample();
        var machine = seconds * Environment.ProcessorCount * TicksPerSecond;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"planning (one process): {recipients:N0} rows, {jobs.Count:N0} chunks in {seconds:F1} s, {recipients / seconds:N0} rows/s; CPU of the machine: postgres {Share(database, machine, postmaster)}, planner {100 * self.Ticks / machine:F0}%; load {LoadAverage()}"));
        return plan.SendId!.Value;
    }

    private static async Task SendAsync(int count, int recipients, long sendId, List<(Process Process, HttpClient Http)> instances,
        IServiceProvider services, int? postmaster)
    {
        var processes = new CpuSampler(() => [.. instances.Select(i => i.Process.Id)]);
        var database = new CpuSampler(() => postmaster is { } pid ? [.. ChildrenOf(pid).Append(pid)] : []);
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                processes.Sample();
                database.Sample();
                await Task.Delay(500, CancellationToken.None);
            }
        });

        var clock = Stopwatch.StartNew();
        // The dispatch jobs into the shared queue, as the planner enqueues them; this process runs no job server.
        await services.GetRequiredService<DeliveryPlanner>().DispatchPendingAsync(sendId, Ct);
        var store = services.GetRequiredService<DeliveryStore>();
        while ((await store.GetSendAsync(sendId, Ct))!.FinishedAt is null)
        {
            await Task.Delay(250);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        await sampling.CancelAsync();
        await sampler;
        processes.Sample();
        database.Sample();
        var counts = await store.CountStatesAsync(sendId, Ct);
        if (counts[DeliveryState.Sent] != recipients)
        {
            throw new InvalidOperationException($"send {sendId} ended with {string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}"))}, not {recipients} sent");
        }

        var (first, last) = await SentRangeAsync(services.GetRequiredService<Db>(), sendId);
        var machine = seconds * Environment.ProcessorCount * TicksPerSecond;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{count} | {recipients / seconds:N0} | {seconds:F1} | {(last - first).TotalSeconds:F1} | {Share(database, machine, postmaster)} / {100 * processes.Ticks / machine:F0}% | {LoadAverage()}"));
    }

    private static string Share(CpuSampler sampler, double machineTicks, int? postmaster) =>
        postmaster is null ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"{100 * sampler.Ticks / machineTicks:F0}%");

    private static async Task<List<(Process Process, HttpClient Http)>> StartInstancesAsync(int count, string dataDirectory, string connection)
    {
        var instances = new List<(Process, HttpClient)>();
        for (var i = 1; i <= count; i++)
        {
            var port = FreePort();
            var start = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { Path.Combine(AppContext.BaseDirectory, "NewsBot.dll"), "--urls", $"http://127.0.0.1:{port}" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = dataDirectory,
            };
            start.Environment["NewsBot__DataDirectory"] = dataDirectory;
            start.Environment["NewsBot__Database__Provider"] = Db.PostgresqlProvider;
            start.Environment["NewsBot__Database__ConnectionString"] = connection;
            start.Environment["NewsBot__Admin__Token"] = AdminToken;
            start.Environment["NewsBot__InstanceName"] = $"bench-{i}";
            // The service logs every chunk at Information; the benchmark measures sending, not console output.
            start.Environment["Logging__LogLevel__Default"] = "Warning";
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine($"bench-{i}: {e.Data}"); } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(30) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
            instances.Add((process, http));
        }

        foreach (var (process, http) in instances)
        {
            await WaitForHealthAsync(process, http);
        }

        return instances;
    }

    private static async Task WaitForHealthAsync(Process process, HttpClient http)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(120); DateTime.UtcNow < deadline && !process.HasExited; await Task.Delay(100))
        {
            try
            {
                if ((await http.GetAsync("/healthz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
        }

        throw new TimeoutException($"instance {process.Id} did not answer /healthz within 120 s");
    }

    /// <summary>A fresh Hangfire schema (the instances install it again) and no outbox files.</summary>
    private static async Task ResetQueueAsync(string connection, string outbox)
    {
        await ExecuteAsync(connection, "DROP SCHEMA IF EXISTS hangfire CASCADE");
        if (Directory.Exists(outbox))
        {
            Directory.Delete(outbox, recursive: true);
        }
    }

    private static async Task<(DateTimeOffset First, DateTimeOffset Last)> SentRangeAsync(Db db, long sendId)
    {
        await using var connection = await db.OpenAsync(Ct);
        await using var command = connection.CreateCommand("SELECT MIN(sent_at), MAX(sent_at) FROM deliveries WHERE send_id = @send_id");
        command.AddParameter("send_id", sendId);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        await reader.ReadAsync(Ct);
        return (DbExtensions.ParseTimestamp(reader.GetString(0)), DbExtensions.ParseTimestamp(reader.GetString(1)));
    }

    /// <summary>The PostgreSQL server's main process: the parent of this connection's backend; null when the server is not on this machine.</summary>
    private static async Task<int?> FindPostmasterAsync(string connection)
    {
        await using var npgsql = new NpgsqlConnection(connection);
        await npgsql.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", npgsql);
        var backend = (int)(await command.ExecuteScalarAsync())!;
        if (!File.Exists($"/proc/{backend}/status"))
        {
            return null;
        }

        var parent = File.ReadLines($"/proc/{backend}/status").First(l => l.StartsWith("PPid:", StringComparison.Ordinal))[5..].Trim();
        return int.Parse(parent, CultureInfo.InvariantCulture);
    }

    private static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), CultureInfo.InvariantCulture, out var pid)
                && ReadStat(pid) is { } stat && stat.Parent == parent)
            {
                yield return pid;
            }
        }
    }

    /// <summary>proc(5) /proc/pid/stat: field 4 ppid, 14 utime, 15 stime, after the command name in parentheses.</summary>
    private static (int Parent, long Ticks)? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[1], CultureInfo.InvariantCulture),
            long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    private static async Task ExecuteAsync(string connection, string sql)
    {
        await using var npgsql = new NpgsqlConnection(connection);
        await npgsql.OpenAsync();
        await using var command = new NpgsqlCommand(sql, npgsql);
        await command.ExecuteNonQueryAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// CPU ticks used by a set of processes since the first sample: the last reading of each process is kept, so one
    /// that exits between samples still counts what it used until its last sample.
    /// </summary>
    private sealed class CpuSampler(Func<List<int>> processes)
    {
        private readonly Dictionary<int, long> _first = [];
        private readonly Dictionary<int, long> _last = [];
        private bool _started;

        public long Ticks => _last.Sum(p => p.Value - _first.GetValueOrDefault(p.Key));

        public void Sample()
        {
            foreach (var pid in processes())
            {
                if (ReadStat(pid) is not { } stat)
                {
                    continue;
                }

                // A process that appears after the first sample started during the run: all its time counts.
                if (!_started)
                {
                    _first[pid] = stat.Ticks;
                }

                _last[pid] = stat.Ticks;
            }

            _started = true;
        }
    }
}
