namespace NewsBot.Feeds;

/// <summary>
/// A feed could not be fetched. <see cref="Transient"/> says whether retrying later may succeed (5xx, 408, 429,
/// timeouts, network errors) or the source itself is wrong (other 4xx, size cap, bad URL).
/// </summary>
public sealed class FeedFetchException(string message, int? statusCode, bool transient, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>The HTTP status that failed the fetch; null when the failure was not an HTTP status.</summary>
    public int? StatusCode { get; } = statusCode;

    public bool Transient { get; } = transient;
}
