using Microsoft.Extensions.Options;

using NewsBot.Jobs;

namespace NewsBot.Feeds;

/// <summary>Checks every feed setting at start; each failure names its configuration key.</summary>
public sealed class FeedsOptionsValidator : IValidateOptions<FeedsOptions>
{
    public ValidateOptionsResult Validate(string? name, FeedsOptions options)
    {
        var errors = ValidateFeeds(options).ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public static IEnumerable<string> ValidateFeeds(FeedsOptions options)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.Feeds.Count; i++)
        {
            var feed = options.Feeds[i];
            var key = $"NewsBot:Feeds:{i}";
            if (string.IsNullOrWhiteSpace(feed.Name))
            {
                yield return $"{key}:Name is empty: give each feed a short name such as 'blog'";
            }
            else if (!feed.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                yield return $"{key}:Name '{feed.Name}' may hold only letters, digits, '-', '_' and '.' (it names the job poll-feed:<name>)";
            }
            else if (!names.Add(feed.Name))
            {
                yield return $"{key}:Name '{feed.Name}' is used by another feed";
            }

            if (!IsValidSource(feed.Url))
            {
                yield return $"{key}:Url '{feed.Url}' is not an http(s) URL, a file:// URI or a file path";
            }

            if (!CronSchedule.IsValid(feed.Cron))
            {
                yield return $"{key}:Cron '{feed.Cron}' is not a cron expression (five fields, e.g. '*/10 * * * *')";
            }

            if (feed.MaxBackfillPages is < 0 or > 1000)
            {
                yield return $"{key}:MaxBackfillPages {feed.MaxBackfillPages} must be between 0 and 1000";
            }
        }

        var fetch = options.Fetch;
        if (fetch.Timeout <= TimeSpan.Zero || fetch.Timeout > TimeSpan.FromMinutes(10))
        {
            yield return $"NewsBot:Fetch:Timeout {fetch.Timeout} must be more than 0 and at most 00:10:00";
        }

        if (fetch.MaxBytes is < 1024 or > 1L << 30)
        {
            yield return $"NewsBot:Fetch:MaxBytes {fetch.MaxBytes} must be between 1024 and 1073741824";
        }

        if (fetch.MaxRedirects is < 0 or > 20)
        {
            yield return $"NewsBot:Fetch:MaxRedirects {fetch.MaxRedirects} must be between 0 and 20";
        }

        if (string.IsNullOrWhiteSpace(fetch.UserAgent))
        {
            yield return "NewsBot:Fetch:UserAgent is empty: feed hosts block anonymous fetchers";
        }

        if (options.FirstBackoff <= TimeSpan.Zero || options.MaxBackoff < options.FirstBackoff)
        {
            yield return $"NewsBot:FirstBackoff {options.FirstBackoff} must be positive and at most NewsBot:MaxBackoff {options.MaxBackoff}";
        }
    }

    private static bool IsValidSource(string url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return false;
        }

        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "file")
        {
            return uri.Scheme == "file" || !string.IsNullOrEmpty(uri.Host);
        }

        // A path: absolute or relative to the working directory; it need not exist yet (a poll reports that).
        return !url.Contains("://", StringComparison.Ordinal) && url.IndexOfAny(Path.GetInvalidPathChars()) < 0;
    }
}
