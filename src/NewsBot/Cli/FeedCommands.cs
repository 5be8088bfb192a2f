using System.CommandLine;

using Microsoft.Extensions.Options;

using NewsBot.Feeds;
using NewsBot.Posts;
using NewsBot.Topics;

namespace NewsBot.Cli;

/// <summary><c>feeds parse</c>, <c>feeds list</c>, <c>feeds poll</c>.</summary>
public static class FeedCommands
{
    public static Command Create(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var feeds = new Command("feeds", "Parse, list and poll feed sources.");
        feeds.Subcommands.Add(CreateParse(services, output, error));
        feeds.Subcommands.Add(CreateList(services, output, error));
        feeds.Subcommands.Add(CreatePoll(services, output, error));
        return feeds;
    }

    private static Command CreateParse(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var source = new Argument<string>("source") { Description = "A feed file path, file:// URI or http(s) URL." };
        var json = new Option<bool>("--json") { Description = "Print the feed and its posts as JSON." };
        var command = new Command("parse", "Fetch and parse one feed without storing anything; exit 1 when it is not a feed.") { source, json };
        command.SetAction((result, ct) => CliApp.RunVerbAsync(error, async () =>
        {
            var provider = services();
            var fetched = await provider.GetRequiredService<FeedFetcher>().FetchAsync(result.GetValue(source)!, null, null, ct);
            var page = (FeedFetched)fetched;
            var feed = FeedParser.Parse(page.Body, page.ContentType, Uri.TryCreate(page.FinalUrl, UriKind.Absolute, out var baseUri) ? baseUri : null);
            var topics = provider.GetRequiredService<TopicMatcher>();
            var posts = feed.Items.Select(item =>
            {
                var content = ContentSanitizer.SanitizeWithSummary(item.ContentHtml ?? item.SummaryHtml, baseUri);
                var title = item.Title?.Trim();
                return new PostJson.JsonPost(
                    item.Id, item.Url, title, item.Author, item.Published, item.Updated, item.Labels,
                    topics.Match(title ?? "", ContentSanitizer.ToPlainText(content.Html), item.Labels),
                    content.Summary.Length == 0 ? null : content.Summary);
            });
            if (result.GetValue(json))
            {
                await using var stdout = new MemoryStream();
                PostJson.WriteFeed(stdout, feed, posts);
                await output.WriteLineAsync(System.Text.Encoding.UTF8.GetString(stdout.ToArray()));
            }
            else
            {
                await output.WriteLineAsync($"{feed.Type.ToString().ToLowerInvariant()} feed '{feed.Title}' ({feed.Link}): {feed.Items.Count} posts");
                foreach (var post in posts)
                {
                    await output.WriteLineAsync($"  {(post.Published is { } p ? PostJson.FormatDate(p) : "(no date)"),-20}  {post.Title}  [{string.Join(", ", post.Topics)}]");
                }
            }

            return 0;
        }));
        return command;
    }

    private static Command CreateList(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var command = new Command("list", "List configured feeds with their poll state: last poll, failures, last error, backoff.");
        command.SetAction((_, ct) => CliApp.RunVerbAsync(error, async () =>
        {
            var provider = await CliApp.OpenStoreAsync(services, ct);
            var states = provider.GetRequiredService<FeedStateStore>();
            foreach (var feed in provider.GetRequiredService<IOptions<FeedsOptions>>().Value.Feeds)
            {
                var state = await states.GetAsync(feed.Name, ct);
                await output.WriteLineAsync($"{feed.Name}  {state?.PermanentUrl ?? feed.Url}");
                await output.WriteLineAsync($"  schedule '{feed.Cron}', title: {state?.Title ?? "(unknown)"}");
                await output.WriteLineAsync(state?.LastPolledAt is { } polled
                    ? $"  last poll {PostJson.FormatDate(polled)}, last success {(state.LastSuccessAt is { } ok ? PostJson.FormatDate(ok) : "never")}"
                    : "  never polled");
                if (state is { FailureCount: > 0 })
                {
                    await output.WriteLineAsync($"  {state.FailureCount} failure(s) in a row, next try after {(state.NextAttemptAt is { } next ? PostJson.FormatDate(next) : "now")}: {state.LastError}");
                }
            }

            return 0;
        }));
        return command;
    }

    private static Command CreatePoll(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var name = new Argument<string?>("name") { Description = "The feed to poll; all feeds when left out.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("poll", "Poll feeds now (ignoring backoff), showing progress, and store new and edited posts.") { name };
        command.SetAction((result, ct) => CliApp.RunVerbAsync(error, async () =>
        {
            var provider = await CliApp.OpenStoreAsync(services, ct);
            var configured = provider.GetRequiredService<IOptions<FeedsOptions>>().Value.Feeds;
            var only = result.GetValue(name);
            var feeds = only is null ? configured.Select(f => f.Name).ToList() : [only];
            var failed = 0;
            foreach (var feed in feeds)
            {
                try
                {
                    var refreshed = await provider.GetRequiredService<FeedRefresher>().RefreshFeedAsync(feed, force: true, new SynchronousProgress(output), ct);
                    await output.WriteLineAsync(refreshed.Outcome == RefreshOutcome.NotModified
                        ? $"{feed}: not modified"
                        : $"{feed}: {refreshed.NewPostIds.Count} new, {refreshed.Updated} updated, {refreshed.Unchanged} unchanged from {refreshed.Pages} page(s)");
                    if (refreshed.AnnouncePostIds.Count > 0)
                    {
                        // Announcing is the service's job (a Hangfire job after its own poll); the CLI sends only when told to.
                        await output.WriteLineAsync($"{feed}: {refreshed.AnnouncePostIds.Count} new post(s) not announced; send one with `send post <id>` (ids {string.Join(", ", refreshed.AnnouncePostIds)})");
                    }
                }
                catch (Exception e) when (e is FeedFetchException or FeedFormatException)
                {
                    failed++;
                    await error.WriteLineAsync($"{feed}: failed: {e.Message}");
                }
            }

            return failed == 0 ? 0 : 1;
        }));
        return command;
    }

    /// <summary>Progress lines in order, on the caller's thread (<see cref="Progress{T}"/> posts them out of order).</summary>
    private sealed class SynchronousProgress(TextWriter output) : IProgress<string>
    {
        public void Report(string value) => output.WriteLine("  " + value);
    }
}
