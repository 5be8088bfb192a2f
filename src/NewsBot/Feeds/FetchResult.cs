namespace NewsBot.Feeds;

/// <summary>
/// What <see cref="FeedFetcher.FetchAsync"/> got. <see cref="PermanentUrl"/> is set when the source was permanently
/// redirected (301/308), so the caller can replace its stored URL (RFC 9110 §15.4.2, §15.4.9).
/// </summary>
public abstract record FetchResult(string? PermanentUrl);

/// <summary>A body to parse. <see cref="ETag"/> and <see cref="LastModified"/> are to be sent back on the next fetch.</summary>
public sealed record FeedFetched(
    byte[] Body,
    string? ContentType,
    string? ETag,
    string? LastModified,
    string FinalUrl,
    string? PermanentUrl) : FetchResult(PermanentUrl);

/// <summary>The feed is unchanged since the validators the caller sent (HTTP 304, or an unchanged local file).</summary>
public sealed record FeedNotModified(string? PermanentUrl) : FetchResult(PermanentUrl);
