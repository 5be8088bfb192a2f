using System.Diagnostics;
using System.ServiceModel.Syndication;
using System.Text.Json;
using System.Xml;

using NewsBot.Feeds;

namespace NewsBot.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project tests/NewsBot.Benchmarks -- compare</c>: how NewsBot's parser and the two
/// candidates fare on the corpus: feeds read, entry titles and dates as feed-rs expects them, Blogger labels and
/// paging links, and the time for the whole corpus. The README's parser choice rests on these figures.
/// </summary>
public static class ParserComparison
{
    private sealed record Entry(string? Id, string? Title, DateTimeOffset? Published, IReadOnlyList<string> Labels);

    private sealed record Feed(string? Title, string? Next, IReadOnlyList<Entry> Entries);

    private static readonly (string Name, Func<byte[], Feed> Parse)[] Parsers =
    [
        ("NewsBot FeedParser", ParseWithNewsBot),
        ("SyndicationFeed", ParseWithSyndication),
        ("CodeHollow.FeedReader", ParseWithCodeHollow),
    ];

    public static void Run()
    {
        var feedRs = Directory.EnumerateFiles(Path.Combine(Corpus.Root, "feed-rs"), "*.serde.json", SearchOption.AllDirectories).Order().ToList();
        var feedparser = Directory.EnumerateFiles(Path.Combine(Corpus.Root, "feedparser"), "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".xml", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal)).Order().ToList();
        var bloggerFacts = JsonDocument.Parse(File.ReadAllText(Path.Combine(Corpus.Root, "blogger", "EXPECTED_FACTS.json"))).RootElement.GetProperty("feeds");

        Console.WriteLine($"| parser | feed-rs feeds read | feed-rs entry titles | feed-rs entry dates | Blogger labels | Blogger next links | feedparser files read | unexpected exception types | corpus time |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var (name, parse) in Parsers)
        {
            var clock = Stopwatch.StartNew();
            int read = 0, titles = 0, titlesTotal = 0, dates = 0, datesTotal = 0;
            foreach (var expectedPath in feedRs)
            {
                var source = expectedPath.Replace(".serde.json", File.Exists(expectedPath.Replace(".serde.json", ".xml")) ? ".xml" : ".json", StringComparison.Ordinal);
                var expected = JsonDocument.Parse(File.ReadAllText(expectedPath)).RootElement.GetProperty("entries").EnumerateArray().ToList();
                titlesTotal += expected.Count;
                datesTotal += expected.Count(e => e.GetProperty("published").ValueKind == JsonValueKind.String);
                if (TryParse(parse, source, out var feed, out _) is not { } ok || !ok)
                {
                    continue;
                }

                read++;
                for (var i = 0; i < Math.Min(expected.Count, feed!.Entries.Count); i++)
                {
                    var title = expected[i].GetProperty("title");
                    if (title.ValueKind == JsonValueKind.Object && title.GetProperty("content").GetString()?.Trim() == feed.Entries[i].Title?.Trim())
                    {
                        titles++;
                    }

                    if (expected[i].GetProperty("published").ValueKind == JsonValueKind.String
                        && DateTimeOffset.Parse(expected[i].GetProperty("published").GetString()!, System.Globalization.CultureInfo.InvariantCulture) == feed.Entries[i].Published)
                    {
                        dates++;
                    }
                }
            }

            int labels = 0, labelsTotal = 0, nexts = 0, nextsTotal = 0;
            foreach (var fact in bloggerFacts.EnumerateObject())
            {
                var path = Path.Combine(Corpus.Root, "blogger", fact.Name);
                var hasNext = fact.Value.TryGetProperty("next", out var next) && next.ValueKind == JsonValueKind.String;
                labelsTotal++;
                nextsTotal += hasNext ? 1 : 0;
                if (TryParse(parse, path, out var feed, out _) != true || feed!.Entries.Count == 0)
                {
                    continue;
                }

                var expectedLabels = fact.Value.GetProperty("first_entry").GetProperty("labels").EnumerateArray().Select(l => l.GetString()).ToList();
                labels += expectedLabels.SequenceEqual(feed.Entries[0].Labels) ? 1 : 0;
                nexts += hasNext && feed.Next == next.GetString() ? 1 : 0;
            }

            int fpRead = 0;
            var unexpected = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var path in feedparser)
            {
                var result = TryParse(parse, path, out _, out var exception);
                fpRead += result == true ? 1 : 0;
                if (result is null)
                {
                    unexpected.Add(exception!.GetType().Name);
                }
            }

            Console.WriteLine($"| {name} | {read}/{feedRs.Count} | {titles}/{titlesTotal} | {dates}/{datesTotal} | {labels}/{labelsTotal} | {nexts}/{nextsTotal} | {fpRead}/{feedparser.Count} | {(unexpected.Count == 0 ? "none" : string.Join(", ", unexpected))} | {clock.ElapsedMilliseconds} ms |");
        }
    }

    /// <summary>True when read, false when refused with the parser's own format error (XmlException for SyndicationFeed), null on any other exception.</summary>
    private static bool? TryParse(Func<byte[], Feed> parse, string path, out Feed? feed, out Exception? exception)
    {
        feed = null;
        exception = null;
        try
        {
            feed = parse(File.ReadAllBytes(path));
            return true;
        }
        catch (Exception e) when (e is FeedFormatException or XmlException || e.GetType().Namespace?.StartsWith("CodeHollow.FeedReader", StringComparison.Ordinal) == true)
        {
            exception = e;
            return false;
        }
        catch (Exception e)
        {
            exception = e;
            return null;
        }
    }

    private static Feed ParseWithNewsBot(byte[] data)
    {
        var feed = FeedParser.Parse(data);
        return new Feed(feed.Title, feed.NextLink, [.. feed.Items.Select(i => new Entry(i.Id, i.Title, i.Published, i.Labels))]);
    }

    private static Feed ParseWithSyndication(byte[] data)
    {
        using var stream = new MemoryStream(data);
        using var reader = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
        var feed = SyndicationFeed.Load(reader);
        return new Feed(
            feed.Title?.Text,
            feed.Links.FirstOrDefault(l => l.RelationshipType == "next")?.Uri.ToString(),
            [.. feed.Items.Select(i => new Entry(i.Id, i.Title?.Text, i.PublishDate == default ? null : i.PublishDate, [.. i.Categories.Select(c => c.Name)]))]);
    }

    private static Feed ParseWithCodeHollow(byte[] data)
    {
        var feed = CodeHollow.FeedReader.FeedReader.ReadFromByteArray(data);
        return new Feed(
            feed.Title,
            null,
            [.. feed.Items.Select(i => new Entry(i.Id, i.Title, i.PublishingDate is { } d ? new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)) : null, [.. i.Categories]))]);
    }
}
