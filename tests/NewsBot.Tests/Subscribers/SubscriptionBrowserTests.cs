using System.Diagnostics;

using NewsBot.Subscribers;

namespace NewsBot.Tests.Subscribers;

/// <summary>
/// The loop in headless Chromium (tests/browser/subscription.mjs, playwright-core): skipped when Debian's chromium,
/// node or tests/browser/node_modules is missing, and failed instead under CI=true (.ci/run installs them).
/// </summary>
public sealed class SubscriptionBrowserTests
{
    private static readonly string Chromium = Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private static string BrowserFolder => Path.Combine(TestPaths.RepoRoot, "tests", "browser");

    [SkippableFact]
    public async Task Chromium_SubscribesConfirmsFromTheMail_ChangesPreferences_AndUnsubscribes()
    {
        Require(File.Exists(Chromium), $"chromium not found at {Chromium} (apt-get install chromium)");
        Require(File.Exists(Path.Combine(BrowserFolder, "node_modules", "playwright-core", "package.json")),
            $"playwright-core not installed (npm ci in {BrowserFolder})");
        await using var site = await SubscriptionSite.StartAsync();

        var (exitCode, output) = await RunNodeAsync(site.Browser.BaseAddress!.ToString(), site.OutboxDirectory, "phone@example.org");
        var subscriber = await site.Subscribers.FindByAddressAsync(Channels.Email, "phone@example.org", CancellationToken.None);

        Assert.True(exitCode == 0, $"node subscription.mjs exited with {exitCode}:\n{output}");
        Assert.Contains("\"steps\":[\"subscribed\",\"confirmed\",\"preferences saved\",\"unsubscribed\"]", output, StringComparison.Ordinal);
        Assert.Equal(ChannelStatus.Unsubscribed, subscriber!.Channels.Single().Status);
        Assert.Equal(["sanctions"], subscriber.Topics);
        Assert.Equal(Cadence.Daily, subscriber.Cadence);
    }

    private static void Require(bool present, string reason)
    {
        if (!present && TestPaths.IsCi)
        {
            throw new InvalidOperationException("CI=true but " + reason);
        }

        Skip.IfNot(present, reason);
    }

    private static async Task<(int ExitCode, string Output)> RunNodeAsync(params string[] args)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = BrowserFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("subscription.mjs");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Require(false, $"node cannot be started: {e.Message}");
            throw;
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            return (process.ExitCode, await stdout + await stderr);
        }
    }
}
