using NewsBot.Delivery;
using NewsBot.Email;
using NewsBot.Posts;
using NewsBot.Subscribers;
using NewsBot.Templates;
using NewsBot.Topics;

namespace NewsBot.Admin;

/// <summary>An admin's request for a send, as the API, the CLI and the bot take it.</summary>
/// <param name="Since">For a digest: cover posts from this time on instead of each subscriber's last digest.</param>
public sealed record AdminSendRequest(string? Kind, long? PostId, string? Cadence, IReadOnlyList<string>? Channels, IReadOnlyList<string>? Topics, bool DryRun, DateTimeOffset? Since = null);

/// <summary>
/// A send's report: counts per ledger state and up to 50 errors; a paused send says since when and why; and the
/// bounces and complaints that came back from it afterwards, per kind (the bounce mailbox, when it is on).
/// </summary>
public sealed record SendReport(
    long Id,
    string Kind,
    long? PostId,
    string? Cadence,
    IReadOnlyList<string> Channels,
    IReadOnlyList<string>? Topics,
    string RequestedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt,
    int Total,
    IReadOnlyDictionary<string, int> Counts,
    IReadOnlyList<SendReportError> Errors,
    DateTimeOffset? PausedAt = null,
    string? PauseReason = null,
    IReadOnlyDictionary<string, int>? Bounces = null);

public sealed record SendReportError(string Channel, string Address, string State, string? Error, int Attempts);

public sealed record TestSendResult(string Subject, ChannelOutcome Outcome, string? Error);

/// <summary>Bad admin input; the message names the field and what is wrong.</summary>
public sealed class AdminRequestException(string message) : Exception(message);

/// <summary>
/// Preview, dry-run, send, report and retry: the one service behind the admin HTTP API, the CLI verbs and (later)
/// the bot's admin commands. It checks the request and hands it to the planner; it sends nothing itself.
/// </summary>
public sealed class AdminService(
    DeliveryPlanner planner,
    DeliveryStore deliveries,
    PostStore posts,
    TemplateRenderer templates,
    TopicMatcher topics,
    IEnumerable<IChannel> channels,
    BounceStore bounces,
    TimeProvider time)
{
    public async Task<SendPlan> CreateSendAsync(AdminSendRequest request, string requestedBy, CancellationToken ct)
    {
        var kind = request.Kind?.Trim().ToLowerInvariant();
        var channels = CheckChannels(request.Channels);
        var topicNames = CheckTopics(request.Topics);
        SendRequest send = kind switch
        {
            "post" when request.Since is not null => throw new AdminRequestException("since applies to digests; a post send sends that one post"),
            "post" => new SendRequest("post", await CheckPostAsync(request.PostId, ct), ParseCadence(request.Cadence, allowNull: true), channels, topicNames, request.DryRun, requestedBy),
            "digest" => new SendRequest("digest", null, ParseDigestCadence(request.Cadence), channels, topicNames, request.DryRun, requestedBy, CheckSince(request.Since)),
            _ => throw new AdminRequestException($"kind '{request.Kind}' is not a send kind: use \"post\" or \"digest\""),
        };
        return await planner.PlanAsync(send, ct);
    }

    public async Task<RenderedMessage> PreviewPostAsync(long? postId, string? channel, CancellationToken ct)
    {
        var format = ParseFormat(channel);
        var id = await CheckPostAsync(postId, ct);
        var post = await posts.GetAsync(id, ct) ?? throw new AdminRequestException($"postId {id} does not exist");
        return templates.RenderPost(ToTemplatePost(post), format);
    }

    /// <summary>
    /// One post to one address through the real channel, outside the subscriber list and the ledger (like
    /// Mailchimp's test email): it proves the channel and the template, not a send.
    /// </summary>
    public async Task<TestSendResult> SendTestAsync(string channel, string address, long? postId, CancellationToken ct)
    {
        var post = postId is { } id
            ? await posts.GetAsync(id, ct) ?? throw new AdminRequestException($"postId {id} does not exist")
            : (await posts.LatestAsync(1, null, ct)).FirstOrDefault() ?? throw new AdminRequestException("there are no posts yet: poll a feed first");
        // The last registration of a name wins, as in DispatchJob: the SMTP or Telegram channel, not the outbox before it.
        var sender = channels.LastOrDefault(c => c.Name == channel) ?? throw new AdminRequestException($"channel '{channel}' is not configured");
        var model = ToTemplatePost(post);
        var key = $"test-{Guid.NewGuid():n}";
        OutgoingMessage message;
        if (channel == Subscribers.Channels.Email)
        {
            var html = templates.RenderPost(model, MessageFormat.EmailHtml);
            var text = templates.RenderPost(model, MessageFormat.EmailText);
            message = new OutgoingMessage(key, channel, address, html.Subject, html.Personalise(PreviewLinks), text.Personalise(PreviewLinks), PreviewLinks);
        }
        else
        {
            var telegram = templates.RenderPost(model, MessageFormat.Telegram);
            message = new OutgoingMessage(key, channel, address, telegram.Subject, telegram.Personalise(PreviewLinks), null);
        }

        var result = await sender.SendAsync(message, ct);
        return new TestSendResult(message.Subject, result.Outcome, result.Error);
    }

    /// <summary>Stand-in links for previews: a preview belongs to no subscriber.</summary>
    public static SubscriberLinks PreviewLinks { get; } = new("https://example.org/preferences?preview", "https://example.org/unsubscribe?preview");

    /// <summary>Counts per state and the first errors of a send; null when there is no such send.</summary>
    public async Task<SendReport?> GetReportAsync(long sendId, CancellationToken ct)
    {
        if (await deliveries.GetSendAsync(sendId, ct) is not { } send)
        {
            return null;
        }

        var counts = await deliveries.CountStatesAsync(sendId, ct);
        var errors = await deliveries.ListErrorsAsync(sendId, 50, ct);
        var bounced = await bounces.CountForSendAsync(sendId, ct);
        return new SendReport(
            send.Id, send.Kind, send.PostId, send.Cadence?.ToString().ToLowerInvariant(), send.Channels, send.Topics, send.RequestedBy,
            send.CreatedAt, send.FinishedAt, send.Total,
            Enum.GetValues<DeliveryState>().ToDictionary(DeliveryStore.StateName, s => counts.GetValueOrDefault(s)),
            [.. errors.Select(e => new SendReportError(e.Channel, e.Address, DeliveryStore.StateName(e.State), e.Error, e.Attempts))],
            send.PausedAt, send.PauseReason,
            Enum.GetValues<BounceKind>().ToDictionary(BounceStore.KindName, k => bounced.GetValueOrDefault(k)));
    }

    /// <summary>
    /// Puts the failed rows of a send back to pending, resumes it when it was paused, and dispatches its pending rows;
    /// sent rows are not touched.
    /// </summary>
    public async Task<int> RetryFailedAsync(long sendId, CancellationToken ct)
    {
        if (await deliveries.GetSendAsync(sendId, ct) is null)
        {
            throw new AdminRequestException($"send {sendId} does not exist");
        }

        var requeued = await deliveries.RetryFailedAsync(sendId, ct);
        await planner.DispatchPendingAsync(sendId, ct);
        return requeued;
    }

    public static TemplatePost ToTemplatePost(Post post) =>
        new(post.Id, post.Title, post.Url, post.Summary, post.Topics, post.Published, post.Author);

    /// <summary><c>email-html</c>, <c>email-text</c> or <c>telegram</c>: the three renderings of a message.</summary>
    public static MessageFormat ParseFormat(string? channel) => channel?.Trim().ToLowerInvariant() switch
    {
        "email-html" or "email" => MessageFormat.EmailHtml,
        "email-text" => MessageFormat.EmailText,
        "telegram" => MessageFormat.Telegram,
        _ => throw new AdminRequestException($"channel '{channel}' is not a preview channel: use email-html, email-text or telegram"),
    };

    private async Task<long> CheckPostAsync(long? postId, CancellationToken ct)
    {
        if (postId is not { } id)
        {
            throw new AdminRequestException("postId is required for a post send or preview");
        }

        return await posts.GetAsync(id, ct) is null ? throw new AdminRequestException($"postId {id} does not exist") : id;
    }

    private static IReadOnlyList<string>? CheckChannels(IReadOnlyList<string>? channels)
    {
        if (channels is null || channels.Count == 0)
        {
            return null;
        }

        var unknown = channels.Where(c => !Subscribers.Channels.All.Contains(c)).ToList();
        return unknown.Count == 0
            ? channels.Distinct().ToList()
            : throw new AdminRequestException($"channels: '{string.Join("', '", unknown)}' unknown; use {string.Join(" or ", Subscribers.Channels.All)}");
    }

    private IReadOnlyList<string>? CheckTopics(IReadOnlyList<string>? names)
    {
        if (names is null || names.Count == 0)
        {
            return null;
        }

        var found = new List<string>();
        foreach (var name in names)
        {
            found.Add(topics.TryFind(name, out var topic)
                ? topic.Name
                : throw new AdminRequestException($"topics: '{name}' is not a topic; topics: {string.Join(", ", topics.Names)}"));
        }

        return found;
    }

    private static Cadence? ParseCadence(string? cadence, bool allowNull) =>
        cadence is null && allowNull ? null
        : Enum.TryParse<Cadence>(cadence, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !cadence!.All(char.IsDigit)
            ? parsed
            : throw new AdminRequestException($"cadence '{cadence}' is not a cadence: use instant, daily, weekly or off");

    private DateTimeOffset? CheckSince(DateTimeOffset? since) =>
        since > time.GetUtcNow() ? throw new AdminRequestException($"since {since:O} is in the future") : since;

    private static Cadence ParseDigestCadence(string? cadence)
    {
        var parsed = ParseCadence(cadence, allowNull: false);
        return parsed is Cadence.Daily or Cadence.Weekly
            ? parsed.Value
            : throw new AdminRequestException($"cadence '{cadence}' is not a digest cadence: use daily or weekly");
    }
}
