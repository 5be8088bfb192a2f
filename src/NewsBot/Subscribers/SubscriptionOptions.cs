namespace NewsBot.Subscribers;

/// <summary>The <c>NewsBot:Subscriptions</c> section: the public subscription pages.</summary>
public sealed class SubscriptionOptions
{
    public const string Section = "NewsBot:Subscriptions";

    /// <summary>How many subscribe forms one client address (an IPv6 /64) may send per <see cref="RateLimitWindow"/>.</summary>
    public int RateLimit { get; set; } = 10;

    public TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromMinutes(10);

    public IEnumerable<string> Validate()
    {
        if (RateLimit < 1)
        {
            yield return $"{Section}:RateLimit '{RateLimit}' must be at least 1";
        }

        if (RateLimitWindow <= TimeSpan.Zero)
        {
            yield return $"{Section}:RateLimitWindow '{RateLimitWindow}' must be a positive time span such as 00:10:00";
        }
    }
}
