using System.Net;
using System.Text;
using System.Text.Json;

namespace NewsBot.Feeds;

/// <summary>JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1).</summary>
internal static class JsonFeedParser
{
    private static readonly JsonDocumentOptions Options = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
    };

    public static ParsedFeed Parse(ReadOnlySpan<byte> body, Encoding encoding, Uri? baseUri)
    {
        var utf8 = encoding.CodePage == 65001 ? body.ToArray() : Encoding.UTF8.GetBytes(encoding.GetString(body));
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, Options);
        }
        catch (JsonException e)
        {
            throw new FeedFormatException($"Not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            var version = ReadString(root, "version");
            if (root.ValueKind != JsonValueKind.Object || version is null || !version.StartsWith("https://jsonfeed.org/version/", StringComparison.Ordinal))
            {
                throw new FeedFormatException("JSON document is not a JSON Feed: no \"version\": \"https://jsonfeed.org/version/1...\" member (line 1)");
            }

            var feedBase = FeedXml.ParseAbsoluteUri(ReadString(root, "feed_url")) ?? baseUri;
            var home = FeedXml.Resolve(ReadString(root, "home_page_url"), feedBase);
            var links = new List<FeedLink>();
            if (home is not null)
            {
                links.Add(new FeedLink(home, "alternate", "text/html", null));
            }

            AddLink(links, FeedXml.Resolve(ReadString(root, "feed_url"), feedBase), "self");
            AddLink(links, FeedXml.Resolve(ReadString(root, "next_url"), feedBase), "next");
            var feedAuthor = ReadAuthor(root);
            var items = new List<FeedItem>();
            if (root.TryGetProperty("items", out var array) && array.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in array.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Object)
                    {
                        items.Add(ReadItem(item, feedBase, feedAuthor));
                    }
                }
            }

            return new ParsedFeed(FeedType.Json, ReadString(root, "title"), home, FeedXml.Resolve(ReadString(root, "feed_url"), feedBase), links, items);
        }
    }

    private static FeedItem ReadItem(JsonElement item, Uri? feedBase, string? feedAuthor)
    {
        var url = FeedXml.Resolve(ReadString(item, "url"), feedBase);
        var links = new List<FeedLink>();
        AddLink(links, url, "alternate");
        AddLink(links, FeedXml.Resolve(ReadString(item, "external_url"), feedBase), "related");
        if (item.TryGetProperty("attachments", out var attachments) && attachments.ValueKind == JsonValueKind.Array)
        {
            foreach (var attachment in attachments.EnumerateArray())
            {
                var href = FeedXml.Resolve(ReadString(attachment, "url"), feedBase);
                if (href is not null)
                {
                    links.Add(new FeedLink(href, "enclosure", ReadString(attachment, "mime_type"), ReadString(attachment, "title")));
                }
            }
        }

        var categories = new List<FeedCategory>();
        if (item.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array)
        {
            foreach (var tag in tags.EnumerateArray())
            {
                if (tag.ValueKind == JsonValueKind.String && FeedXml.TrimToNull(tag.GetString()) is { } term)
                {
                    categories.Add(new FeedCategory(term, null, null));
                }
            }
        }

        // JSON Feed 1.1: content_text is plain text; escape it so ContentHtml is always HTML.
        var contentText = ReadString(item, "content_text");
        return new FeedItem
        {
            // JSON Feed: "id" is a string, but numbers are common; keep their text.
            Id = item.TryGetProperty("id", out var id) && id.ValueKind is JsonValueKind.String or JsonValueKind.Number ? id.ToString() : null,
            Url = url,
            Title = ReadString(item, "title"),
            Author = ReadAuthor(item) ?? feedAuthor,
            Published = FeedDates.Parse(ReadString(item, "date_published")),
            Updated = FeedDates.Parse(ReadString(item, "date_modified")),
            Links = links,
            Categories = categories,
            ContentHtml = ReadString(item, "content_html") ?? (contentText is null ? null : WebUtility.HtmlEncode(contentText)),
            SummaryHtml = ReadString(item, "summary") is { } summary ? WebUtility.HtmlEncode(summary) : null,
            Labels = FeedXml.SelectLabels(categories),
        };
    }

    // JSON Feed 1.1 "authors" (array) supersedes 1.0 "author" (object).
    private static string? ReadAuthor(JsonElement element)
    {
        if (element.TryGetProperty("authors", out var authors) && authors.ValueKind == JsonValueKind.Array)
        {
            foreach (var author in authors.EnumerateArray())
            {
                if (ReadString(author, "name") is { } name)
                {
                    return name;
                }
            }
        }

        return element.TryGetProperty("author", out var single) ? ReadString(single, "name") : null;
    }

    private static void AddLink(List<FeedLink> links, string? href, string rel)
    {
        if (href is not null)
        {
            links.Add(new FeedLink(href, rel, null, null));
        }
    }

    private static string? ReadString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? FeedXml.TrimToNull(value.GetString())
            : null;
}
