namespace NewsBot.Feeds;

/// <summary>Limits and identity for <see cref="FeedFetcher"/>; bound from the <c>NewsBot:Fetch</c> config section.</summary>
public sealed class FetchOptions
{
    /// <summary>Covers the whole request: every redirect hop, the headers and the body read.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Cap on the (decompressed) body, so a runaway or hostile feed cannot exhaust memory.</summary>
    public long MaxBytes { get; set; } = 10 * 1024 * 1024;

    public int MaxRedirects { get; set; } = 5;

    public string UserAgent { get; set; } = "NewsBot/1.0 (+https://github.com/newsbot/newsbot; feed fetcher)";
}
