using System.Text.Json;

using NewsBot.Cli;

using Xunit.Abstractions;

namespace NewsBot.Tests.Cli;

/// <summary><c>feeds parse --json</c> over every feed of the shared corpus: the documented shape, or exit 1 with one line.</summary>
public sealed class FeedsParseCorpusTests(ITestOutputHelper log) : IDisposable
{
    private static readonly string[] PostFields = ["id", "url", "title", "author", "published", "updated", "labels", "topics", "summary"];

    private readonly TestHost host = TestHost.Create();

    public void Dispose() => host.Dispose();

    public static IEnumerable<string> CorpusFeeds(string corpus) =>
        Directory.EnumerateFiles(corpus, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}email{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}telegram{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => Path.GetExtension(f) is ".xml" or ".rss" or ".atom"
                || (Path.GetExtension(f) == ".json" && !f.EndsWith(".serde.json", StringComparison.Ordinal)
                    && !f.EndsWith(".expected.json", StringComparison.Ordinal) && !f.EndsWith("EXPECTED_FACTS.json", StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal);

    [SkippableFact]
    public async Task EveryCorpusFeedGivesTheShapeOrOneLine()
    {
        var corpus = TestPaths.RequireCorpus();
        var services = CliApp.BuildServices(host.Configuration);
        var shaped = 0;
        var rejected = 0;
        var wrong = new List<string>();
        foreach (var file in CorpusFeeds(corpus))
        {
            using var output = new StringWriter();
            using var error = new StringWriter();
            var exitCode = await CliApp.RunAsync(["feeds", "parse", file, "--json"], output, error, () => services);
            var name = Path.GetRelativePath(corpus, file);
            if (exitCode == 1 && output.ToString().Length == 0 && error.ToString().TrimEnd('\n').Split('\n').Length == 1 && error.ToString().StartsWith("error: ", StringComparison.Ordinal))
            {
                rejected++;
            }
            else if (exitCode == 0 && ShapeError(output.ToString()) is null)
            {
                shaped++;
            }
            else
            {
                wrong.Add($"{name}: exit {exitCode}: {(exitCode == 0 ? ShapeError(output.ToString()) : error.ToString().Trim())}");
            }
        }

        log.WriteLine($"feeds parse --json over the corpus: {shaped} with the documented shape, {rejected} rejected with one line, {wrong.Count} wrong");
        Assert.True(wrong.Count == 0, string.Join("\n", wrong.Take(20)));
        Assert.True(shaped > 2000, $"only {shaped} corpus feeds parsed");
    }

    /// <summary>Null when the output has the documented shape, else what is off.</summary>
    private static string? ShapeError(string output)
    {
        using var json = JsonDocument.Parse(output);
        var feed = json.RootElement.GetProperty("feed");
        if (!IsStringOrNull(feed.GetProperty("title")) || !IsStringOrNull(feed.GetProperty("link"))
            || feed.GetProperty("type").GetString() is not ("rss" or "atom" or "json"))
        {
            return "feed object";
        }

        foreach (var post in json.RootElement.GetProperty("posts").EnumerateArray())
        {
            if (!post.EnumerateObject().Select(p => p.Name).SequenceEqual(PostFields))
            {
                return "post fields";
            }

            foreach (var date in new[] { post.GetProperty("published"), post.GetProperty("updated") })
            {
                if (date.ValueKind != JsonValueKind.Null && !System.Text.RegularExpressions.Regex.IsMatch(date.GetString()!, @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"))
                {
                    return "date " + date.GetString();
                }
            }

            if (post.GetProperty("labels").ValueKind != JsonValueKind.Array || post.GetProperty("topics").ValueKind != JsonValueKind.Array)
            {
                return "lists";
            }
        }

        return null;
    }

    private static bool IsStringOrNull(JsonElement element) => element.ValueKind is JsonValueKind.String or JsonValueKind.Null;
}
