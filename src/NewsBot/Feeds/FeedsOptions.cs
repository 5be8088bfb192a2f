namespace NewsBot.Feeds;

/// <summary>The feed part of the <c>NewsBot</c> section: the sources to poll and how to fetch them.</summary>
public sealed class FeedsOptions
{
    /// <summary>The bundled sample feed, polled when no source is configured so a fresh install shows posts.</summary>
    public const string SampleFeedName = "sample";

    public List<FeedSourceOptions> Feeds { get; set; } = [];

    public FetchOptions Fetch { get; set; } = new();

    /// <summary>First wait after a failed poll; doubled after each further failure up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan FirstBackoff { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(12);

    public static string SampleFeedPath => Path.Combine(AppContext.BaseDirectory, "Feeds", "Sample", "sample-feed.xml");
}

public sealed class FeedSourceOptions
{
    public const string DefaultCron = "*/10 * * * *";

    public string Name { get; set; } = "";

    /// <summary>An http(s) URL, a file:// URI or a local path.</summary>
    public string Url { get; set; } = "";

    public string Cron { get; set; } = DefaultCron;

    /// <summary>On the first successful poll, follow <c>rel=next</c> pages to pick up older posts.</summary>
    public bool Backfill { get; set; } = true;

    public int MaxBackfillPages { get; set; } = 20;
}
