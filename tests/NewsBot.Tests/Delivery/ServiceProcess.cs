using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

using Xunit.Abstractions;

namespace NewsBot.Tests.Delivery;

/// <summary>
/// The real binary as a child process over a <see cref="TestHost"/>'s data directory (<see cref="TestHost.StartServiceProcess"/>),
/// answering <c>/healthz</c>, with an admin API client. Killed on dispose if still running.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    public const string AdminToken = "child-process-admin-token-0123";

    private ServiceProcess(string name, Process process, HttpClient http)
    {
        Name = name;
        Process = process;
        Http = http;
    }

    public string Name { get; }

    public Process Process { get; }

    public HttpClient Http { get; }

    /// <summary>Starts the service on a free loopback port and waits until it answers <c>/healthz</c>; its log goes to <paramref name="log"/>.</summary>
    public static async Task<ServiceProcess> StartAsync(TestHost host, ITestOutputHelper log, string name, params (string Key, string Value)[] environment)
    {
        var port = TestHost.FreePort();
        var process = host.StartServiceProcess(port, [("NewsBot__Admin__Token", AdminToken), .. environment]);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => Write(log, $"{name}: {e.Data}", e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        var service = new ServiceProcess(name, process, http);
        for (var deadline = DateTime.UtcNow.AddSeconds(120); DateTime.UtcNow < deadline && !process.HasExited; await Task.Delay(100))
        {
            try
            {
                if ((await http.GetAsync("/healthz")).IsSuccessStatusCode)
                {
                    return service;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
        }

        service.Dispose();
        throw new TimeoutException($"service {name} did not answer /healthz within 120 s");
    }

    /// <summary>Creates a send of post <paramref name="postId"/> on <paramref name="channels"/> through the admin API and returns its id.</summary>
    public async Task<long> CreateSendAsync(long postId, params string[] channels)
    {
        var created = await Http.PostAsJsonAsync("/api/admin/sends", new { kind = "post", postId, channels });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        return JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
    }

    /// <summary>Waits until the admin API reports no row of the send pending or sending.</summary>
    public async Task WaitForFinishedAsync(long sendId, TimeSpan timeout)
    {
        for (var deadline = DateTime.UtcNow + timeout; DateTime.UtcNow < deadline; await Task.Delay(250))
        {
            using var report = JsonDocument.Parse(await Http.GetStringAsync($"/api/admin/sends/{sendId}"));
            var counts = report.RootElement.GetProperty("counts");
            if (Count(counts, "pending") + Count(counts, "sending") == 0)
            {
                return;
            }
        }

        throw new TimeoutException($"send {sendId} did not finish within {timeout.TotalSeconds} s (asked {Name})");
    }

    /// <summary>SIGKILL: the process gets no chance to release what it holds.</summary>
    public async Task KillAsync()
    {
        Process.Kill(entireProcessTree: true);
        await Process.WaitForExitAsync();
    }

    /// <summary>The address in an outbox <c>.eml</c>'s To header.</summary>
    public static string ReadRecipient(string eml) =>
        File.ReadLines(eml).First(l => l.StartsWith("To:", StringComparison.OrdinalIgnoreCase))[3..].Trim();

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit();
        }

        Http.Dispose();
        Process.Dispose();
    }

    private static int Count(JsonElement counts, string state) => counts.TryGetProperty(state, out var value) ? value.GetInt32() : 0;

    private static void Write(ITestOutputHelper log, string line, string? data)
    {
        if (data is null)
        {
            return;
        }

        try
        {
            log.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test has ended: xunit takes no more output from this process's last lines.
        }
    }
}
