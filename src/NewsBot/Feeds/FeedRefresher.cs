using System.Security.Cryptography;
using System.Text;

using Microsoft.Extensions.Options;

using NewsBot.Posts;
using NewsBot.Topics;

namespace NewsBot.Feeds;

/// <summary>What one poll of a source did.</summary>
/// <param name="NewPostIds">Every post this poll inserted.</param>
/// <param name="AnnouncePostIds">
/// The inserted posts to announce: none on a feed's first successful poll, which stores the blog's history (and
/// its backfill) without sending it, as Mailchimp's RSS campaigns and Telegram RSS bots start from "now".
/// </param>
public sealed record RefreshResult(
    string Feed,
    RefreshOutcome Outcome,
    int Pages,
    IReadOnlyList<long> NewPostIds,
    int Updated,
    int Unchanged,
    DateTimeOffset? RetryAfter = null,
    IReadOnlyList<long>? AnnouncePostIds = null)
{
    public IReadOnlyList<long> AnnouncePostIds { get; init; } = AnnouncePostIds ?? [];
}

public enum RefreshOutcome { Stored, NotModified, BackingOff }

/// <summary>
/// The whole intake of one source, top to bottom: fetch, parse, sanitize, tag, store, record. Only the posts the
/// store inserted come back as new; the caller announces those and nothing else.
/// </summary>
public sealed class FeedRefresher(
    FeedFetcher fetcher,
    FeedStateStore feedStates,
    PostStore posts,
    TopicMatcher topics,
    IOptions<FeedsOptions> options,
    TimeProvider time,
    ILogger<FeedRefresher> logger)
{
    public async Task<RefreshResult> RefreshFeedAsync(string name, bool force, IProgress<string>? progress, CancellationToken ct)
    {
        var source = options.Value.Feeds.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"No feed named '{name}' is configured (NewsBot:Feeds); known: {string.Join(", ", options.Value.Feeds.Select(f => f.Name))}");
        var state = await feedStates.EnsureAsync(source.Name, source.Url, ct);
        var now = time.GetUtcNow();
        if (!force && state.NextAttemptAt > now)
        {
            logger.LogInformation("Feed {Feed}: backing off after {Failures} failure(s) until {RetryAt:u}; last error: {Error}", source.Name, state.FailureCount, state.NextAttemptAt, state.LastError);
            return new RefreshResult(source.Name, RefreshOutcome.BackingOff, 0, [], 0, 0, state.NextAttemptAt);
        }

        try
        {
            var url = state.PermanentUrl ?? source.Url;
            progress?.Report($"{source.Name}: fetching {url}");
            var fetched = await fetcher.FetchAsync(url, state.ETag, state.LastModified, ct);
            if (fetched.PermanentUrl is { } moved && moved != state.PermanentUrl)
            {
                logger.LogInformation("Feed {Feed} moved permanently to {Url}; polling it there from now on", source.Name, moved);
                await feedStates.RecordPermanentUrlAsync(source.Name, moved, ct);
            }

            if (fetched is not FeedFetched page)
            {
                await feedStates.RecordNotModifiedAsync(source.Name, now, ct);
                logger.LogInformation("Feed {Feed}: not modified", source.Name);
                return new RefreshResult(source.Name, RefreshOutcome.NotModified, 0, [], 0, 0);
            }

            var feed = FeedParser.Parse(page.Body, page.ContentType, ToUri(page.FinalUrl));
            var items = new List<FeedItem>(feed.Items);
            var pages = 1;
            var backfill = source.Backfill && !state.Backfilled;
            for (var next = feed.NextLink; backfill && next is not null && pages <= source.MaxBackfillPages; pages++)
            {
                progress?.Report($"{source.Name}: backfilling page {pages + 1} {next}");
                var older = await FetchOlderPageAsync(source.Name, next, ct);
                items.AddRange(older?.Items ?? []);
                next = older?.NextLink;
            }

            var newPosts = ToNewPosts(items, ToUri(page.FinalUrl));
            progress?.Report($"{source.Name}: storing {newPosts.Count} posts from {pages} page(s)");
            var saved = await posts.SaveAsync(source.Name, newPosts, ct);

            await feedStates.RecordSuccessAsync(source.Name, page.ETag, page.LastModified, feed.Title, now, ct);
            if (backfill)
            {
                await feedStates.MarkBackfilledAsync(source.Name, ct);
            }

            var firstPoll = state.LastSuccessAt is null;
            logger.LogInformation(
                "Feed {Feed}: {New} new, {Updated} updated, {Unchanged} unchanged post(s) from {Pages} page(s){First}",
                source.Name, saved.InsertedIds.Count, saved.Updated, saved.Unchanged, pages, firstPoll ? "; first poll: stored, not announced" : "");
            return new RefreshResult(source.Name, RefreshOutcome.Stored, pages, saved.InsertedIds, saved.Updated, saved.Unchanged,
                AnnouncePostIds: firstPoll ? [] : saved.InsertedIds);
        }
        catch (Exception e) when (e is FeedFetchException or FeedFormatException)
        {
            var failures = state.FailureCount + 1;
            var retryAt = now + Backoff(failures);
            await feedStates.RecordFailureAsync(source.Name, e.Message, now, retryAt, ct);
            logger.LogWarning("Feed {Feed}: poll failed ({Failures} in a row), next try after {RetryAt:u}: {Error}", source.Name, failures, retryAt, e.Message);
            throw;
        }
    }

    /// <summary>A backfill page that fails ends the backfill, not the poll: the first page is the one that matters.</summary>
    private async Task<ParsedFeed?> FetchOlderPageAsync(string feed, string url, CancellationToken ct)
    {
        try
        {
            return await fetcher.FetchAsync(url, null, null, ct) is FeedFetched older
                ? FeedParser.Parse(older.Body, older.ContentType, ToUri(older.FinalUrl))
                : null;
        }
        catch (Exception e) when (e is FeedFetchException or FeedFormatException)
        {
            logger.LogWarning("Feed {Feed}: backfill stopped at {Url}: {Error}", feed, url, e.Message);
            return null;
        }
    }

    /// <summary>Doubles from <see cref="FeedsOptions.FirstBackoff"/> per consecutive failure, capped at <see cref="FeedsOptions.MaxBackoff"/>.</summary>
    public TimeSpan Backoff(int failures)
    {
        var first = options.Value.FirstBackoff;
        var max = options.Value.MaxBackoff;
        var factor = Math.Pow(2, Math.Min(failures - 1, 30));
        return first * factor > max ? max : first * factor;
    }

    /// <summary>Oldest first, so post ids rise with publication time; one entry per identity.</summary>
    private List<NewPost> ToNewPosts(List<FeedItem> items, Uri? baseUri)
    {
        var byKey = new Dictionary<string, NewPost>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var content = ContentSanitizer.SanitizeWithSummary(item.ContentHtml ?? item.SummaryHtml, baseUri);
            var title = string.IsNullOrWhiteSpace(item.Title) ? ContentSanitizer.Summarize(content.Html, 80) : item.Title.Trim();
            var text = ContentSanitizer.ToPlainText(content.Html);
            var post = new NewPost(
                Key: IdentifyItem(item),
                Url: item.Url,
                Title: title,
                Author: item.Author,
                Published: item.Published ?? item.Updated,
                Updated: item.Updated,
                Labels: item.Labels,
                Topics: topics.Match(title, text, item.Labels),
                ContentHtml: content.Html,
                Summary: content.Summary,
                ContentHash: ContentSanitizer.HashContent(title, content.Html));
            byKey.TryAdd(post.Key, post);
        }

        return [.. byKey.Values.OrderBy(p => p.Published ?? DateTimeOffset.MaxValue)];
    }

    /// <summary>A post's identity: its id (Atom id, RSS guid, Blogger's tag: URI), else its link, else a hash of title and date.</summary>
    public static string IdentifyItem(FeedItem item)
    {
        if (!string.IsNullOrWhiteSpace(item.Id))
        {
            return item.Id.Trim();
        }

        if (!string.IsNullOrWhiteSpace(item.Url))
        {
            return item.Url.Trim();
        }

        var seed = $"{item.Title}\n{(item.Published ?? item.Updated)?.UtcDateTime:O}";
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(seed)));
    }

    private static Uri? ToUri(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri : null;
}
