using System.Text;
using System.Text.RegularExpressions;

using NewsBot.Feeds;

using Xunit.Abstractions;

namespace NewsBot.Tests.Feeds;

/// <summary>
/// corpus/feedparser: every file must parse or throw <see cref="FeedFormatException"/>, and the <c>Expect:</c>
/// expressions about what NewsBot models (titles, links, ids, dates, categories, authors, well-formedness) must hold.
/// </summary>
public partial class FeedparserCorpusTests(ITestOutputHelper output)
{
    // Keys of feedparser's result that ParsedFeed models. Anything else an expression touches makes it inapplicable:
    // description/summary/content (feedparser sanitizes and resolves URIs inside HTML; NewsBot keeps raw HTML for the
    // sanitizer), *_detail (content types and languages), raw date strings (only *_parsed is compared), encoding/version
    // and namespaces (not exposed), itunes/media/geo/psc extensions, feed-level tags/dates/authors (not in ParsedFeed).
    private static readonly Dictionary<string, HashSet<string>> ModelledKeys = new()
    {
        ["feed"] = ["title", "link", "links", "id"],
        ["entry"] = ["title", "link", "links", "id", "guid", "published_parsed", "updated_parsed", "tags", "category", "author"],
        ["link"] = ["href", "rel", "type", "title"],
        ["tag"] = ["term", "scheme", "label"],
    };

    /// <summary>A feedparser result dictionary: which ParsedFeed object it stands for decides the keys it models.</summary>
    private sealed class FeedparserDict(string kind) : Dictionary<string, object?>
    {
        public string Kind { get; } = kind;
    }

    [SkippableFact]
    public void EveryFile_ParsesOrThrowsFeedFormatException()
    {
        var root = TestPaths.RequireCorpus("feedparser");
        var offenders = new List<string>();
        var counts = new SortedDictionary<string, (int Parsed, int Rejected)>(StringComparer.Ordinal);
        var files = Directory.GetFiles(root, "*", SearchOption.AllDirectories).Where(IsFeedFile).Order(StringComparer.Ordinal).ToList();
        foreach (var path in files)
        {
            var folder = GetFolder(root, path);
            var bytes = File.ReadAllBytes(path);
            var (contentType, baseUri) = ReadHeaders(bytes, BuildDocumentUri(root, path));
            var count = counts.GetValueOrDefault(folder);
            try
            {
                FeedParser.Parse(bytes, contentType, baseUri);
                counts[folder] = (count.Parsed + 1, count.Rejected);
            }
            catch (FeedFormatException)
            {
                counts[folder] = (count.Parsed, count.Rejected + 1);
            }
            catch (Exception e)
            {
                offenders.Add($"{Path.GetRelativePath(root, path)}: {e.GetType().Name}: {e.Message}");
            }
        }

        foreach (var (folder, count) in counts)
        {
            output.WriteLine($"{folder}: {count.Parsed} parsed, {count.Rejected} rejected with FeedFormatException");
        }

        output.WriteLine($"{files.Count} files, {offenders.Count} offenders");
        offenders.ForEach(output.WriteLine);
        Assert.True(files.Count > 2000, $"only {files.Count} files found");
        Assert.Empty(offenders);
    }

    [SkippableFact]
    public void ExpectExpressions_HoldForModelledFields()
    {
        var root = TestPaths.RequireCorpus("feedparser");
        var tally = new ConformanceTally();
        var inapplicable = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var files = Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Where(IsFeedFile)
            .Where(p => !GetFolder(root, p).StartsWith("wellformed/sanitize", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        foreach (var path in files)
        {
            var bytes = File.ReadAllBytes(path);
            var expect = ReadExpect(bytes);
            if (expect is null)
            {
                continue;
            }

            var folder = GetFolder(root, path);
            var reason = FindInapplicableReason(folder, expect, bytes);
            if (reason is not null)
            {
                inapplicable[reason] = inapplicable.GetValueOrDefault(reason) + 1;
                continue;
            }

            var (contentType, baseUri) = ReadHeaders(bytes, BuildDocumentUri(root, path));
            ParsedFeed? feed = null;
            try
            {
                feed = FeedParser.Parse(bytes, contentType, baseUri);
            }
            catch (FeedFormatException)
            {
            }

            try
            {
                var passed = PythonExpression.Evaluate(expect, name => ResolveName(name, feed), (dictionary, key) => dictionary is not FeedparserDict d || ModelledKeys[d.Kind].Contains(key));
                tally.Record(folder, passed, $"{Path.GetFileName(path)}: {expect}{(feed is null ? " (rejected)" : "")}");
            }
            catch (PythonExpression.NotModelledException e)
            {
                var kind = e.Message;
                inapplicable[kind] = inapplicable.GetValueOrDefault(kind) + 1;
            }
        }

        tally.Print(output, maxMismatches: 200);
        output.WriteLine("inapplicable (not modelled by ParsedFeed): " + string.Join(", ", inapplicable.OrderByDescending(p => p.Value).Select(p => $"{p.Key} x{p.Value}")));
        Assert.True(tally.Applicable > 400, $"only {tally.Applicable} applicable expectations");
        Assert.True(tally.Passed >= 0.95 * tally.Applicable, $"{tally.Passed}/{tally.Applicable} expectations hold");
    }

    private static object? ResolveName(string name, ParsedFeed? feed) => name switch
    {
        "bozo" => feed is null,
        "feed" => feed is null ? new FeedparserDict("feed") : FeedDictionary(feed),
        "entries" => feed is null ? new List<object?>() : feed.Items.Select(EntryDictionary).Cast<object?>().ToList(),
        _ => throw new PythonExpression.NotModelledException(name),
    };

    // feedparser's names for ParsedFeed fields; an absent value is an absent key, as in feedparser.
    private static Dictionary<string, object?> FeedDictionary(ParsedFeed feed)
    {
        var result = new FeedparserDict("feed") { ["links"] = feed.Links.Select(LinkDictionary).Cast<object?>().ToList() };
        Put(result, "title", feed.Title);
        Put(result, "link", feed.Link);
        Put(result, "id", feed.Id);
        return result;
    }

    private static Dictionary<string, object?> EntryDictionary(FeedItem item)
    {
        var result = new FeedparserDict("entry")
        {
            ["links"] = item.Links.Select(LinkDictionary).Cast<object?>().ToList(),
        };
        Put(result, "title", item.Title);
        Put(result, "link", item.Url);
        Put(result, "id", item.Id);
        Put(result, "guid", item.Id);
        Put(result, "author", item.Author);
        if (item.Published is { } published)
        {
            result["published_parsed"] = StructTime(published);
        }

        // feedparser answers "updated" with the published date when there is no update date.
        if ((item.Updated ?? item.Published) is { } updated)
        {
            result["updated_parsed"] = StructTime(updated);
        }

        if (item.Categories.Count > 0)
        {
            result["tags"] = item.Categories.Select(c => (object?)new FeedparserDict("tag") { ["term"] = c.Term, ["scheme"] = c.Scheme, ["label"] = c.Label }).ToList();
            result["category"] = item.Categories[0].Term;
        }

        return result;
    }

    private static Dictionary<string, object?> LinkDictionary(FeedLink link)
    {
        var result = new FeedparserDict("link") { ["href"] = link.Href, ["rel"] = link.Rel ?? "alternate" };
        Put(result, "type", link.MediaType);
        Put(result, "title", link.Title);
        return result;
    }

    private static void Put(Dictionary<string, object?> dictionary, string key, string? value)
    {
        if (value is not null)
        {
            dictionary[key] = value;
        }
    }

    // Python's time.struct_time in UTC: (year, month, day, hour, minute, second, weekday Monday=0, yearday, isdst=0).
    private static List<object?> StructTime(DateTimeOffset value)
    {
        var utc = value.UtcDateTime;
        return [(long)utc.Year, (long)utc.Month, (long)utc.Day, (long)utc.Hour, (long)utc.Minute, (long)utc.Second, (long)(((int)utc.DayOfWeek + 6) % 7), (long)utc.DayOfYear, 0L];
    }

    private static bool IsFeedFile(string path) =>
        (path.EndsWith(".xml", StringComparison.Ordinal) || path.EndsWith(".json", StringComparison.Ordinal) || path.EndsWith(".rdf", StringComparison.Ordinal))
        && !Path.GetFileName(path).StartsWith("LICENSE", StringComparison.Ordinal);

    private static string GetFolder(string root, string path) =>
        Path.GetRelativePath(root, Path.GetDirectoryName(path)!).Replace('\\', '/');

    // The leading comment is ASCII in every encoding but UTF-16/32; decode those before looking.
    private static string ReadHead(byte[] bytes)
    {
        var head = bytes.AsSpan(0, Math.Min(bytes.Length, 4096));
        var text = head.Length > 1 && (head[0] == 0 || head[1] == 0 || head[0] == 0xFF || head[0] == 0xFE)
            ? DecodeWide(head.ToArray())
            : Encoding.Latin1.GetString(head);
        var end = text.IndexOf("-->", StringComparison.Ordinal);
        return end < 0 ? text : text[..end];
    }

    private static string DecodeWide(byte[] head)
    {
        foreach (var encoding in new Encoding[] { new UTF32Encoding(true, false), new UTF32Encoding(false, false), new UnicodeEncoding(true, false), new UnicodeEncoding(false, false) })
        {
            var text = encoding.GetString(head);
            if (text.Contains("Expect", StringComparison.Ordinal))
            {
                return text;
            }
        }

        return "";
    }

    private static string? ReadExpect(byte[] bytes)
    {
        var match = ExpectLine().Match(ReadHead(bytes));
        return match.Success ? match.Groups[1].Value.Trim() : null;
    }

    // feedparser's test harness serves each file from http://127.0.0.1:8097/tests/...: the document URI its
    // *_docuri cases resolve against.
    private static Uri BuildDocumentUri(string root, string path) =>
        new("http://127.0.0.1:8097/tests/" + Path.GetRelativePath(root, path).Replace('\\', '/'));

    private static string? FindInapplicableReason(string folder, string expect, byte[] bytes)
    {
        if (folder == "wellformed/cdf")
        {
            return "CDF documents (not a feed format NewsBot reads)";
        }

        if (HtmlTitle().IsMatch(expect))
        {
            return "HTML in titles (NewsBot titles are plain text)";
        }

        if ((folder == "encoding" || folder == "illformed/chardet") && expect.StartsWith("bozo", StringComparison.Ordinal))
        {
            return "charset mismatches feedparser flags as bozo (NewsBot repairs them silently)";
        }

        if (Encoding.Latin1.GetString(bytes).Contains("<!ENTITY", StringComparison.Ordinal))
        {
            return "DTD-declared entities (rejected by design: XXE, entity expansion)";
        }

        return null;
    }

    private static (string? ContentType, Uri? BaseUri) ReadHeaders(byte[] bytes, Uri documentUri)
    {
        string? contentType = null;
        var baseUri = documentUri;
        foreach (Match header in HeaderLine().Matches(ReadHead(bytes)))
        {
            var name = header.Groups[1].Value.Trim();
            var value = header.Groups[2].Value.Trim();
            if (name.Equals("Content-type", StringComparison.OrdinalIgnoreCase))
            {
                contentType = value;
            }
            else if (name.Equals("Content-Location", StringComparison.OrdinalIgnoreCase))
            {
                // Only an http(s) location is a base (feedparser ignores javascript: and other schemes here).
                baseUri = Uri.TryCreate(documentUri, value, out var uri) && uri.Scheme is "http" or "https" ? uri : documentUri;
            }
        }

        return (contentType, baseUri);
    }

    [GeneratedRegex(@"title'?\]?\s*==\s*u?['""][^'""]*(<|&lt;)")]
    private static partial Regex HtmlTitle();

    [GeneratedRegex(@"Expect:\s*(.+?)\s*(?:\r?\n|$)")]
    private static partial Regex ExpectLine();

    [GeneratedRegex(@"Header:\s*([A-Za-z-]+)\s*:(.*)")]
    private static partial Regex HeaderLine();
}
