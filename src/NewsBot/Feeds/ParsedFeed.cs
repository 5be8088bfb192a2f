namespace NewsBot.Feeds;

/// <summary>A feed document as read from the wire, before sanitizing: the parser's whole output.</summary>
public sealed record ParsedFeed(
    FeedType Type,
    string? Title,
    string? Link,
    string? Id,
    IReadOnlyList<FeedLink> Links,
    IReadOnlyList<FeedItem> Items)
{
    /// <summary>The <c>rel=next</c> page (Blogger pages 25 posts), null on the last page.</summary>
    public string? NextLink => Links.FirstOrDefault(l => l.Rel == "next")?.Href;
}

public enum FeedType { Rss, Atom, Json }

public sealed record FeedLink(string Href, string? Rel, string? MediaType, string? Title);

public sealed record FeedCategory(string Term, string? Scheme, string? Label);

/// <summary>
/// One entry. Text fields are plain text (entities decoded); <see cref="ContentHtml"/> and
/// <see cref="SummaryHtml"/> are HTML as published, not yet sanitized.
/// </summary>
public sealed record FeedItem
{
    public string? Id { get; init; }
    public string? Url { get; init; }
    public string? Title { get; init; }
    public string? Author { get; init; }
    public DateTimeOffset? Published { get; init; }
    public DateTimeOffset? Updated { get; init; }
    public IReadOnlyList<FeedLink> Links { get; init; } = [];
    public IReadOnlyList<FeedCategory> Categories { get; init; } = [];
    public string? ContentHtml { get; init; }
    public string? SummaryHtml { get; init; }

    /// <summary>Category labels: Blogger's <c>http://www.blogger.com/atom/ns#</c> terms, or every category when the feed marks none.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];
}

/// <summary>The input is not a feed we can read; the message says what and where (line, position).</summary>
public sealed class FeedFormatException(string message, Exception? inner = null) : Exception(message, inner);
