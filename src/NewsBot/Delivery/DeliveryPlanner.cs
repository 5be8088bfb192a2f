using Hangfire;

using Microsoft.Extensions.Options;

using NewsBot.Posts;
using NewsBot.Storage;
using NewsBot.Subscribers;
using NewsBot.Templates;

namespace NewsBot.Delivery;

/// <summary>A send asked for by ingestion, the digest schedule or an admin.</summary>
/// <param name="Kind"><c>post</c> or <c>digest</c>.</param>
/// <param name="PostId">The post of a post send.</param>
/// <param name="Cadence">Only subscribers of this cadence (a digest's must be daily or weekly); null for any but off.</param>
/// <param name="Channels">Only these channels; null for all.</param>
/// <param name="Topics">A post send: these topics instead of the post's; a digest: only posts of these topics. Null for no narrowing.</param>
/// <param name="DryRun">Count the audience and write nothing.</param>
/// <param name="Since">A digest sent by hand: posts from this time on, instead of each subscriber's last digest.</param>
public sealed record SendRequest(string Kind, long? PostId, Cadence? Cadence, IReadOnlyList<string>? Channels, IReadOnlyList<string>? Topics, bool DryRun, string RequestedBy = "system", DateTimeOffset? Since = null);

/// <summary>What a send reaches: recipients per channel and when the last message should be out.</summary>
/// <param name="SendId">Null for a dry run, and for a post ingestion had already announced.</param>
/// <param name="Messages">Ledger rows: one per recipient, and one per part of a Telegram digest split in several.</param>
public sealed record SendPlan(long? SendId, IReadOnlyDictionary<string, int> Audience, DateTimeOffset Eta, int Messages);

/// <summary>
/// Turns a send into ledger rows: renders each variant once, streams the recipients (constant memory: only
/// per-variant data is kept) into rows in chunks, one transaction and one dispatch job per chunk.
/// </summary>
public sealed class DeliveryPlanner(
    DeliveryStore store,
    SubscriberStore subscribers,
    PostStore posts,
    TemplateRenderer renderer,
    IBackgroundJobClient jobs,
    IEnumerable<IChannel> channels,
    IOptions<DeliveryOptions> options,
    TimeProvider time,
    ILogger<DeliveryPlanner> logger)
{
    public const string PostVariant = "post";

    /// <summary>The post for a configured Telegram channel or group: no personal links (templates/README.md).</summary>
    public const string BroadcastVariant = "post:broadcast";

    /// <exception cref="ArgumentException">The request names an unknown kind, channel or cadence, or a post that is not stored.</exception>
    public async Task<SendPlan> PlanAsync(SendRequest request, CancellationToken ct)
    {
        var channelNames = ValidateRequest(request);
        if (request.PostId is { } postId && await posts.GetAsync(postId, ct) is null)
        {
            throw new ArgumentException($"Post {postId} is not stored.", nameof(request));
        }

        if (request.DryRun)
        {
            var (counted, countedMessages) = await FillAsync(null, request with { Channels = channelNames }, time.GetUtcNow(), ct);
            return new SendPlan(null, counted, Eta(countedMessages), countedMessages.Values.Sum());
        }

        var sendId = await store.CreateSendAsync(request.Kind, request.PostId, request.Cadence, channelNames, request.Topics,
            dryRun: false, request.RequestedBy, request.Since, ct);
        if (sendId is null)
        {
            logger.LogInformation("Post {PostId} was announced before; no second send", request.PostId);
            return new SendPlan(null, new Dictionary<string, int>(), time.GetUtcNow(), 0);
        }

        var send = await store.GetSendAsync(sendId.Value, ct)
            ?? throw new InvalidOperationException($"Send {sendId} vanished right after it was created.");
        var (audience, messages) = await FillAsync(send.Id, request with { Channels = channelNames }, send.CreatedAt, ct);
        return new SendPlan(send.Id, audience, Eta(messages), messages.Values.Sum());
    }

    /// <summary>
    /// Plans a send again whose planning was cut off (planned_at null): rows already in the ledger are kept by the
    /// idempotency key, only missing ones are added and dispatched.
    /// </summary>
    public async Task ResumeAsync(long sendId, CancellationToken ct)
    {
        var send = await store.GetSendAsync(sendId, ct) ?? throw new ArgumentException($"Send {sendId} does not exist.", nameof(sendId));
        if (send.PlannedAt is not null)
        {
            return;
        }

        logger.LogWarning("Send {SendId} was not fully planned; planning it again", sendId);
        var request = new SendRequest(send.Kind, send.PostId, send.Cadence, send.Channels, send.Topics, DryRun: false, send.RequestedBy, send.Since);
        await FillAsync(send.Id, request, send.CreatedAt, ct);
    }

    private IReadOnlyList<string> ValidateRequest(SendRequest request)
    {
        if (request.Kind is not ("post" or "digest"))
        {
            throw new ArgumentException($"Send kind '{request.Kind}' is not supported: use 'post' or 'digest'.", nameof(request));
        }

        if (request.Kind == "post" && request.PostId is null)
        {
            throw new ArgumentException("A post send needs a post id.", nameof(request));
        }

        if (request.Kind == "digest" && request.Cadence is not (Cadence.Daily or Cadence.Weekly))
        {
            throw new ArgumentException($"A digest goes to daily or weekly subscribers, not '{request.Cadence?.ToString() ?? "none"}'.", nameof(request));
        }

        var channelNames = request.Channels ?? Channels.All;
        foreach (var channel in channelNames.Where(c => !Channels.All.Contains(c)))
        {
            throw new ArgumentException($"Channel '{channel}' is unknown: use {string.Join(" or ", Channels.All)}.", nameof(request));
        }

        return channelNames.Distinct().ToList();
    }

    /// <summary>
    /// Writes the send's messages and rows (or, with no send id, only counts) and returns recipients and messages
    /// per channel. A Telegram digest split in parts is one row per part, each with its own idempotency key, so
    /// each part is claimed and sent exactly once like any other message.
    /// </summary>
    private async Task<(Dictionary<string, int> Audience, Dictionary<string, int> Messages)> FillAsync(long? sendId, SendRequest request, DateTimeOffset now, CancellationToken ct)
    {
        var channelNames = request.Channels!;
        var audience = channelNames.ToDictionary(c => c, _ => 0);
        var messages = channelNames.ToDictionary(c => c, _ => 0);
        LedgerWriter? writer = sendId is null ? null : await store.OpenLedgerWriterAsync(sendId.Value, ct);
        await using (writer)
        {
            var chunkSize = options.Value.ChunkSize;
            var buffer = new List<NewDelivery>(chunkSize);
            var chooseVariant = request.Kind == "post"
                ? await PreparePostAsync(sendId, request, channelNames, ct)
                : PrepareDigest(sendId, request, channelNames, now);
            var filter = new RecipientFilter(channelNames, request.Cadence, request.Kind == "post" ? request.Topics ?? chooseVariant.PostTopics : request.Topics);
            await foreach (var recipient in subscribers.StreamRecipientsAsync(filter, chunkSize, ct))
            {
                var variant = await chooseVariant.ForAsync(recipient, ct);
                if (variant is null)
                {
                    continue;
                }

                var parts = recipient.Channel == Channels.Telegram ? variant.TelegramParts : 1;
                audience[recipient.Channel]++;
                messages[recipient.Channel] += parts;
                if (writer is null)
                {
                    continue;
                }

                if (parts == 1)
                {
                    buffer.Add(new NewDelivery(recipient.SubscriberId, recipient.Channel, recipient.Address, variant.Name));
                }
                else
                {
                    for (var part = 1; part <= parts; part++)
                    {
                        buffer.Add(new NewDelivery(recipient.SubscriberId, recipient.Channel, recipient.Address, PartVariant(variant.Name, part), part));
                    }
                }

                // A chunk ends between recipients, never between the parts of one: one job sends them, in order.
                if (buffer.Count >= chunkSize)
                {
                    await FlushAsync(writer, sendId!.Value, buffer, ct);
                }
            }

            if (writer is not null)
            {
                await FlushAsync(writer, sendId!.Value, buffer, ct);
            }
        }

        if (sendId is { } id)
        {
            await store.MarkPlannedAsync(id, ct);
            // Every chunk may have been dispatched before planning ended, or there was nobody to send to.
            await store.TryFinishSendAsync(id, ct);
            logger.LogInformation("Send {SendId} ({Kind}) planned: {Audience}", id, request.Kind,
                string.Join(", ", audience.Select(a => $"{a.Key} {a.Value}")));
        }

        return (audience, messages);
    }

    /// <summary>
    /// One dispatch job per chunk of the send's pending rows: after a restart (recovery) or a retry of failed rows.
    /// A chunk already queued is harmless to queue again: its claim finds nothing left to send.
    /// </summary>
    public async Task<int> DispatchPendingAsync(long sendId, CancellationToken ct)
    {
        var ranges = await store.ListPendingRangesAsync(sendId, options.Value.ChunkSize, ct);
        foreach (var range in ranges)
        {
            jobs.Enqueue<DispatchJob>(j => j.DispatchAsync(sendId, range.FirstId, range.LastId, CancellationToken.None));
        }

        return ranges.Count;
    }

    private async Task FlushAsync(LedgerWriter writer, long sendId, List<NewDelivery> buffer, CancellationToken ct)
    {
        if (buffer.Count == 0)
        {
            return;
        }

        // Parts go in part order across the chunk (every reader's part 1, then every part 2): the ids keep each
        // reader's parts in order, and the parts of one chat are a chunk apart, so the lane's one message a second
        // per chat (Bot API FAQ) seldom holds up the sequential dispatch.
        var range = await writer.AddAsync(buffer.OrderBy(r => r.Part).ToList(), ct);
        buffer.Clear();
        if (range is not null)
        {
            jobs.Enqueue<DispatchJob>(j => j.DispatchAsync(sendId, range.FirstId, range.LastId, CancellationToken.None));
        }
    }

    /// <summary>
    /// A post send has one variant, the post rendered once per format, and a second one for broadcast recipients
    /// (configured Telegram channels), rendered when the first of them comes up.
    /// </summary>
    private async Task<VariantChooser> PreparePostAsync(long? sendId, SendRequest request, IReadOnlyList<string> channelNames, CancellationToken ct)
    {
        var post = await posts.GetAsync(request.PostId!.Value, ct)
            ?? throw new ArgumentException($"Post {request.PostId} is not stored.", nameof(request));
        var model = ToTemplatePost(post);
        if (sendId is not null)
        {
            var messages = FormatsOf(channelNames)
                .Select(f => ToMessage(PostVariant, f, renderer.RenderPost(model, f)))
                .ToList();
            await store.SaveMessagesAsync(sendId.Value, messages, ct);
        }

        var broadcastSaved = sendId is null;
        var whole = new ChosenVariant(PostVariant, 1);

        async Task<ChosenVariant?> ChooseAsync(Recipient recipient, CancellationToken ct)
        {
            if (!recipient.Broadcast)
            {
                return whole;
            }

            if (!broadcastSaved)
            {
                await store.SaveMessagesAsync(sendId!.Value, [ToMessage(BroadcastVariant, MessageFormat.Telegram, renderer.RenderBroadcastPost(model))], ct);
                broadcastSaved = true;
            }

            return new ChosenVariant(BroadcastVariant, 1);
        }

        return new VariantChooser(post.Topics, ChooseAsync);
    }

    /// <summary>
    /// A digest: each recipient gets the posts published since its last digest (or one period back) in its topics.
    /// Recipients sharing topic set and period start share a variant, rendered once; no posts, no row.
    /// </summary>
    /// <summary>
    /// Where a subscriber's first digest starts: midnight in the subscriber's own time zone, one period before
    /// today's. A daily digest then covers "yesterday and today so far" as the reader counts days, wherever
    /// the reader lives; subscribers of one zone share the window, so the variant is still rendered once.
    /// </summary>
    public static DateTimeOffset FirstDigestStart(DateTimeOffset to, TimeSpan period, string timeZone)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(timeZone);
        var local = TimeZoneInfo.ConvertTime(to, zone);
        var midnight = local.Date - period;
        return new DateTimeOffset(midnight, zone.GetUtcOffset(midnight));
    }

    private VariantChooser PrepareDigest(long? sendId, SendRequest request, IReadOnlyList<string> channelNames, DateTimeOffset to)
    {
        var cadence = request.Cadence!.Value;
        var periodName = cadence.ToString().ToLowerInvariant();
        var period = cadence == Cadence.Daily ? TimeSpan.FromDays(1) : TimeSpan.FromDays(7);
        var windows = new Dictionary<DateTimeOffset, IReadOnlyList<Post>>();
        // Per variant, how many Telegram messages it takes (0: no posts, nothing to send).
        var variants = new Dictionary<string, int>(StringComparer.Ordinal);
        var formats = FormatsOf(channelNames);

        async Task<ChosenVariant?> ChooseAsync(Recipient recipient, CancellationToken ct)
        {
            var from = request.Since ?? recipient.LastDigestAt ?? FirstDigestStart(to, period, recipient.TimeZone);
            var topics = recipient.Topics.Order(StringComparer.Ordinal).ToList();
            var variant = $"digest:{DbExtensions.FormatTimestamp(from)}:{(topics.Count == 0 ? "*" : string.Join(",", topics))}";
            if (variants.TryGetValue(variant, out var known))
            {
                return known == 0 ? null : new ChosenVariant(variant, known);
            }

            if (!windows.TryGetValue(from, out var window))
            {
                windows[from] = window = from < to ? await posts.PublishedBetweenAsync(from, to, ct) : [];
            }

            var selected = window
                .Where(p => topics.Count == 0 || p.Topics.Any(topics.Contains))
                .Where(p => request.Topics is null || p.Topics.Any(request.Topics.Contains))
                .Select(ToTemplatePost)
                .ToList();
            if (selected.Count == 0)
            {
                variants[variant] = 0;
                return null;
            }

            // A dry run renders only the Telegram message, to count its parts.
            var digestPeriod = new DigestPeriod(periodName, from, to);
            var parts = 1;
            var messages = new List<SendMessage>();
            foreach (var format in sendId is null ? formats.Where(f => f == MessageFormat.Telegram) : formats)
            {
                var rendered = renderer.RenderDigest(selected, digestPeriod, format);
                if (format == MessageFormat.Telegram)
                {
                    parts = rendered.Count;
                }

                messages.AddRange(rendered.Select((m, i) => ToMessage(rendered.Count == 1 ? variant : PartVariant(variant, i + 1), format, m)));
            }

            if (sendId is not null)
            {
                await store.SaveMessagesAsync(sendId.Value, messages, ct);
            }

            variants[variant] = parts;
            return new ChosenVariant(variant, parts);
        }

        return new VariantChooser([], ChooseAsync);
    }

    private static List<MessageFormat> FormatsOf(IReadOnlyList<string> channelNames)
    {
        var formats = new List<MessageFormat>();
        if (channelNames.Contains(Channels.Email))
        {
            formats.Add(MessageFormat.EmailHtml);
            formats.Add(MessageFormat.EmailText);
        }

        if (channelNames.Contains(Channels.Telegram))
        {
            formats.Add(MessageFormat.Telegram);
        }

        return formats;
    }

    /// <summary>The stored message of one part of a variant sent in several: <c>digest:...#2</c>.</summary>
    private static string PartVariant(string variant, int part) => $"{variant}#{part}";

    private static SendMessage ToMessage(string variant, MessageFormat format, RenderedMessage rendered) =>
        new(variant, format, rendered.Subject, rendered.Body);

    private static TemplatePost ToTemplatePost(Post post) =>
        new(post.Id, post.Title, post.Url, post.Summary, post.Topics, post.Published, post.Author);

    /// <summary>
    /// Channels send in parallel, so the slowest channel's backlog decides. Each channel's rate is the one it sends at
    /// (the Telegram lane's <c>GlobalMessagesPerSecond</c>, the outbox's <c>OutboxRatePerSecond</c>); the last
    /// registration of a name is the channel DispatchJob uses.
    /// </summary>
    private DateTimeOffset Eta(IReadOnlyDictionary<string, int> messages)
    {
        var seconds = 0.0;
        foreach (var (name, count) in messages)
        {
            if (channels.LastOrDefault(c => c.Name == name) is { } channel)
            {
                seconds = Math.Max(seconds, count / channel.MessagesPerSecond);
            }
        }

        return time.GetUtcNow() + TimeSpan.FromSeconds(Math.Ceiling(seconds));
    }

    /// <param name="TelegramParts">How many Telegram messages the variant takes (a digest split in parts), else 1.</param>
    private sealed record ChosenVariant(string Name, int TelegramParts);

    /// <param name="PostTopics">A post send's audience topics; empty for a digest.</param>
    /// <param name="ForAsync">The variant a recipient gets, or null when it gets nothing.</param>
    private sealed record VariantChooser(IReadOnlyList<string> PostTopics, Func<Recipient, CancellationToken, Task<ChosenVariant?>> ForAsync);
}
