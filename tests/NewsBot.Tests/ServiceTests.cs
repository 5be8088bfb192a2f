using System.Diagnostics;
using System.Net;
using System.Text;

namespace NewsBot.Tests;

/// <summary>The real binary as a child process: the service starts on embedded defaults, or refuses a wrong setting.</summary>
public sealed class ServiceTests : IDisposable
{
    private readonly TestHost host = TestHost.Create();

    public void Dispose() => host.Dispose();

    private Process StartService(int port, params (string Key, string Value)[] environment) => host.StartServiceProcess(port, environment);

    [Fact]
    public async Task StartsOnEmbeddedDefaultsAndIngestsTheSampleFeed()
    {
        var port = TestHost.FreePort();
        using var service = StartService(port);
        var output = new StringBuilder();
        service.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        service.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        service.BeginOutputReadLine();
        service.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            var health = await WaitForAsync(async () => (await http.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK, service);
            Assert.True(health, "the service never answered /healthz:\n" + output);
            var ingested = await WaitForAsync(() => Task.FromResult(Snapshot(output).Contains("Feed sample: ", StringComparison.Ordinal) && Snapshot(output).Contains(" new, ", StringComparison.Ordinal)), service);
            Assert.True(ingested, "the sample feed was not ingested:\n" + output);

            var dashboard = await http.GetAsync("/hangfire/recurring");
            var dashboardHtml = await dashboard.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
            Assert.Contains("poll-feed:sample", dashboardHtml);
            Assert.Contains("digest:daily", dashboardHtml);
            Assert.Contains("digest:weekly", dashboardHtml);
            var log = Snapshot(output);
            Assert.Contains("Telegram is off", log);
            Assert.Contains("Email is off", log);
        }
        finally
        {
            service.Kill(entireProcessTree: true);
            await service.WaitForExitAsync();
        }

        var (exitCode, latest, _) = await host.RunCliAsync("posts", "search", "sanctions");
        Assert.Equal(0, exitCode);
        Assert.Matches(@"#\d+ ", latest);
    }

    [Fact]
    public async Task AWrongSettingStopsTheStartWithTheKeyAndExitCodeTwo()
    {
        using var service = StartService(TestHost.FreePort(), ("NewsBot__Feeds__0__Name", "blog"), ("NewsBot__Feeds__0__Url", "ftp://example.org/feed"), ("NewsBot__Feeds__0__Cron", "sometimes"));
        var stderr = service.StandardError.ReadToEndAsync();
        var stdout = service.StandardOutput.ReadToEndAsync();
        var exited = service.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        await exited;

        Assert.Equal(2, service.ExitCode);
        var error = await stderr;
        Assert.Contains("NewsBot:Feeds:0:Url 'ftp://example.org/feed'", error);
        Assert.Contains("NewsBot:Feeds:0:Cron 'sometimes'", error);
        Assert.False(host.HasStore(), "a refused start must not create the store: " + await stdout);
    }

    [Fact]
    public async Task ABrokenTemplateStopsTheStartWithItsLineAndColumn()
    {
        using var service = StartService(TestHost.FreePort(), ("NewsBot__Templates__Folder", TestPaths.Fixture("templates/broken")));
        var stderr = service.StandardError.ReadToEndAsync();
        var stdout = service.StandardOutput.ReadToEndAsync();

        await service.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, service.ExitCode);
        Assert.Contains("post.telegram.sbn(3,28): Error while parsing pipe expression", await stderr);
        Assert.False(host.HasStore(), "a refused start must not create the store: " + await stdout);
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static async Task<bool> WaitForAsync(Func<Task<bool>> condition, Process service)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline && !service.HasExited; await Task.Delay(200))
        {
            try
            {
                if (await condition())
                {
                    return true;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or a first answer slower than the client's timeout on a busy machine.
            }
        }

        return false;
    }
}
