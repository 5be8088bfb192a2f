using System.Diagnostics;
using System.Globalization;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

using NewsBot.Cli;
using NewsBot.Feeds;
using NewsBot.Storage;

namespace NewsBot.Benchmarks;

/// <summary>
/// <c>-- ingest [runs]</c>: the whole ingest of giantbomb-podcast.rss served over HTTP on loopback (fetch, parse,
/// sanitize, summary, topics, store into an empty database), then a poll of the unchanged feed (HTTP 304).
/// Each run gets a fresh database; the first two runs warm the JIT and are not counted. Target: 250 ms.
/// </summary>
public static class IngestHarness
{
    public static async Task RunAsync(int runs)
    {
        var body = await File.ReadAllBytesAsync(Corpus.GiantBomb);
        const string etag = "\"giantbomb-1\"";
        var served = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var server = builder.Build();
        server.MapGet("/feed.rss", (HttpContext context) =>
        {
            if (context.Request.Headers.IfNoneMatch == etag)
            {
                return Results.StatusCode(StatusCodes.Status304NotModified);
            }

            served++;
            context.Response.Headers.ETag = etag;
            return Results.Bytes(body, "application/rss+xml");
        });
        await server.StartAsync();
        var url = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/feed.rss";

        var ingest = new List<double>();
        var notModified = new List<double>();
        var posts = 0;
        for (var run = 0; run < runs + 2; run++)
        {
            var dataDirectory = Path.Combine(Path.GetTempPath(), "newsbot-ingest", Guid.NewGuid().ToString("n"));
            var services = CliApp.BuildServices(new Dictionary<string, string?>
            {
                ["NewsBot:DataDirectory"] = dataDirectory,
                ["NewsBot:Feeds:0:Name"] = "giantbomb",
                ["NewsBot:Feeds:0:Url"] = url,
            });
            await services.MigrateStorageAsync(CancellationToken.None);
            var refresher = services.GetRequiredService<FeedRefresher>();

            var clock = Stopwatch.StartNew();
            var stored = await refresher.RefreshFeedAsync("giantbomb", force: true, null, CancellationToken.None);
            var ingestMs = clock.Elapsed.TotalMilliseconds;
            var servedBefore = served;
            clock.Restart();
            var unchanged = await refresher.RefreshFeedAsync("giantbomb", force: true, null, CancellationToken.None);
            var notModifiedMs = clock.Elapsed.TotalMilliseconds;

            if (unchanged.Outcome != RefreshOutcome.NotModified || served != servedBefore)
            {
                throw new InvalidOperationException("the unchanged poll was not a 304");
            }

            posts = stored.NewPostIds.Count;
            if (run >= 2)
            {
                ingest.Add(ingestMs);
                notModified.Add(notModifiedMs);
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dataDirectory, recursive: true);
        }

        await server.StopAsync();
        Console.WriteLine($"ingest of giantbomb-podcast.rss ({body.Length:N0} bytes, {posts} posts) into an empty database, {runs} runs:");
        Console.WriteLine(Describe(ingest));
        Console.WriteLine($"poll of the unchanged feed (HTTP 304, no body, nothing parsed): {Describe(notModified)}");
    }

    private static string Describe(List<double> times)
    {
        var sorted = times.Order().ToList();
        return string.Create(CultureInfo.InvariantCulture, $"mean {times.Average():F1} ms, median {sorted[sorted.Count / 2]:F1} ms, min {sorted[0]:F1} ms, max {sorted[^1]:F1} ms");
    }
}
