using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

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
    private const string Token = "crash-test-admin-token-0123";

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

        var port = TestHost.FreePort();
        long sendId;
        int filesAtKill;
        using (var first = StartService(port))
        {
            using var http = await WaitForServiceAsync(port, first);
            var created = await http.PostAsJsonAsync("/api/admin/sends", new { kind = "post", postId = post.Id, channels = new[] { "email" } });
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
            sendId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();

            filesAtKill = await WaitForOutboxFilesAsync(Recipients / 10);
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();
        }

        var countsAtKill = await services.GetRequiredService<DeliveryStore>().CountStatesAsync(sendId, CancellationToken.None);
        log.WriteLine($"killed with {filesAtKill} outbox files; ledger then: {string.Join(", ", countsAtKill.Select(c => $"{c.Key} {c.Value}"))}");
        Assert.True(countsAtKill.GetValueOrDefault(DeliveryState.Sent) < Recipients, "the send finished before the kill: the test proved nothing");

        using (var second = StartService(port))
        {
            using var http = await WaitForServiceAsync(port, second);
            await WaitForFinishedAsync(http, sendId);
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
        }

        var counts = await services.GetRequiredService<DeliveryStore>().CountStatesAsync(sendId, CancellationToken.None);
        Assert.Equal(Recipients, counts.GetValueOrDefault(DeliveryState.Sent));
        Assert.Equal(Recipients, counts.Values.Sum());
        var messages = Directory.EnumerateFiles(Outbox, "*.eml").ToList();
        var recipients = messages.Select(ReadRecipient).ToList();
        Assert.Equal(Recipients, messages.Count);
        Assert.Equal(Recipients, recipients.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    private static string ReadRecipient(string eml) =>
        File.ReadLines(eml).First(l => l.StartsWith("To:", StringComparison.OrdinalIgnoreCase))[3..].Trim();

    private Process StartService(int port)
    {
        // The shortest lease: the killed instance's rows are swept back to pending seconds after the restart.
        var process = host.StartServiceProcess(port, ("NewsBot__Admin__Token", Token), ("NewsBot__Delivery__LeaseDuration", "00:00:05"));
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { log.WriteLine("stderr: " + e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<HttpClient> WaitForServiceAsync(int port, Process service)
    {
        // The create request plans all 10,000 rows before it answers: seconds on a busy machine, more on PostgreSQL.
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline && !service.HasExited; await Task.Delay(100))
        {
            try
            {
                if ((await http.GetAsync("/healthz")).IsSuccessStatusCode)
                {
                    return http;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
        }

        http.Dispose();
        throw new TimeoutException("the service did not answer /healthz within 60 s");
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

    private static async Task WaitForFinishedAsync(HttpClient http, long sendId)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(180); DateTime.UtcNow < deadline; await Task.Delay(250))
        {
            using var report = JsonDocument.Parse(await http.GetStringAsync($"/api/admin/sends/{sendId}"));
            var counts = report.RootElement.GetProperty("counts");
            if (Count(counts, "pending") + Count(counts, "sending") == 0)
            {
                return;
            }
        }

        throw new TimeoutException($"send {sendId} did not finish within 180 s of the restart");
    }

    private static int Count(JsonElement counts, string state) => counts.TryGetProperty(state, out var value) ? value.GetInt32() : 0;
}
