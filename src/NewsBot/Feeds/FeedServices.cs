using Microsoft.Extensions.Options;

namespace NewsBot.Feeds;

public static class FeedServices
{
    /// <summary>Fetching, parsing and storing of feeds; the sample feed stands in when no source is configured.</summary>
    public static IHostApplicationBuilder AddFeeds(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<FeedsOptions>()
            .BindConfiguration("NewsBot")
            .PostConfigure(o =>
            {
                if (o.Feeds.Count == 0)
                {
                    o.Feeds.Add(new FeedSourceOptions { Name = FeedsOptions.SampleFeedName, Url = FeedsOptions.SampleFeedPath });
                }

                // A relative path means the working directory at start, as every other path setting does.
                foreach (var feed in o.Feeds.Where(f => IsRelativePath(f.Url)))
                {
                    feed.Url = Path.GetFullPath(feed.Url);
                }
            })
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<FeedsOptions>, FeedsOptionsValidator>();
        builder.Services.AddHttpClient<FeedFetcher>()
            .ConfigurePrimaryHttpMessageHandler(FeedFetcher.CreateHandler)
            .ConfigureHttpClient(http => http.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddTransient(sp => sp.GetRequiredService<IOptions<FeedsOptions>>().Value.Fetch);
        builder.Services.AddSingleton<FeedStateStore>();
        builder.Services.AddTransient<FeedRefresher>();
        builder.Services.AddTransient<FeedPollJob>();
        return builder;
    }

    private static bool IsRelativePath(string url) =>
        !string.IsNullOrWhiteSpace(url) && !url.Contains("://", StringComparison.Ordinal) && !Path.IsPathFullyQualified(url)
        && url.IndexOfAny(Path.GetInvalidPathChars()) < 0;

    /// <summary>The recurring poll jobs; only the service schedules them, the CLI polls on demand.</summary>
    public static IHostApplicationBuilder AddFeedSchedule(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHostedService<FeedScheduler>();
        return builder;
    }
}
