using System.Globalization;
using System.Text;

using Microsoft.Extensions.Options;

using NewsBot.Admin;
using NewsBot.Delivery;
using NewsBot.Posts;
using NewsBot.Subscribers;
using NewsBot.Templates;
using NewsBot.Topics;

namespace NewsBot.Telegram;

/// <summary>
/// The bot's commands: one incoming message in, the replies out. No HTTP here; the Telegram connection feeds
/// messages in and sends the replies. Every reply is Telegram HTML (b, i, a, code) with each dynamic value escaped,
/// at most <see cref="MaxLength"/> characters after entity parsing; bad input gets a short helpful reply, never silence.
/// </summary>
public sealed class BotCommands(
    PostStore posts,
    SubscriberStore subscribers,
    DeliveryStore deliveries,
    AdminService admin,
    TopicMatcher topics,
    IOptions<TelegramBotOptions> options)
{
    /// <summary>Bot API sendMessage: "1-4096 characters after entities parsing".</summary>
    public const int MaxLength = 4096;

    public const int MaxArgumentLength = 200;
    public const int DefaultLatest = 5;
    public const int MaxLatest = 20;
    public const int MaxCommandLength = 32;

    private const int ListCount = 20;
    private const int StatsSends = 5;

    // Bot API InlineKeyboardButton.callback_data: 1-64 bytes.
    private const int MaxCallbackBytes = 64;

    private readonly TelegramBotOptions settings = options.Value;

    public async Task<IReadOnlyList<BotReply>> HandleAsync(IncomingMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var text = message.Text?.Trim() ?? "";
        if (!text.StartsWith('/'))
        {
            // In groups the bot sees only commands in privacy mode; other text there is not for it.
            return message.ChatType == "private" ? [Reply("I answer commands. Send /help for the list.")] : [];
        }

        var split = text.IndexOfAny([' ', '\t', '\n', '\r']);
        var head = split < 0 ? text[1..] : text[1..split];
        var argument = split < 0 ? "" : text[(split + 1)..].Trim();
        var at = head.IndexOf('@');
        var command = (at < 0 ? head : head[..at]).ToLowerInvariant();
        if (at >= 0 && !string.Equals(head[(at + 1)..], settings.BotUsername, StringComparison.OrdinalIgnoreCase))
        {
            // Bot API "Commands": /command@botname is addressed to that bot only.
            return [];
        }

        if (argument.Length > MaxArgumentLength)
        {
            return [Reply($"That is too long: at most {MaxArgumentLength} characters after /{HtmlText.Escape(command)}.")];
        }

        try
        {
            return [await RunAsync(command, argument, message, ct)];
        }
        catch (Exception e) when (e is AdminRequestException or SubscriberException or ArgumentException)
        {
            return [Reply($"Sorry, that did not work: {HtmlText.Escape(e.Message)}")];
        }
    }

    public async Task<BotReply> HandleCallbackAsync(IncomingCallback callback, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var data = callback.Data ?? "";
        var colon = data.IndexOf(':');
        var action = colon < 0 ? data : data[..colon];
        var value = colon < 0 ? "" : data[(colon + 1)..];
        var asMessage = new IncomingMessage(callback.ChatId, callback.ChatType, callback.FromUserId, null, data, callback.FromChatAdmin);
        try
        {
            switch (action)
            {
                case "sub":
                    return await SubscribeAsync(asMessage, value, ct);
                case "unsub":
                    return await UnsubscribeAsync(asMessage, value, ct);
                case "send" when !IsAdmin(callback.ChatId):
                    return AdminOnly();
                case "send" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var postId):
                    var plan = await admin.CreateSendAsync(
                        new AdminSendRequest("post", postId, null, null, null, DryRun: false), RequestedBy(callback.FromUserId), ct);
                    return plan.SendId is { } sendId
                        ? Reply($"Send <b>{sendId}</b> started for post {postId}: {Audience(plan.Audience)}, done by about {Eta(plan.Eta)}.")
                        : Reply($"Post {postId} was already sent to its subscribers; nothing sent again.");
                default:
                    return Reply("That button is no longer valid. Send /help for the commands.");
            }
        }
        catch (Exception e) when (e is AdminRequestException or SubscriberException or ArgumentException)
        {
            return Reply($"Sorry, that did not work: {HtmlText.Escape(e.Message)}");
        }
    }

    private async Task<BotReply> RunAsync(string command, string argument, IncomingMessage message, CancellationToken ct)
    {
        switch (command)
        {
            case "start":
                return await StartAsync(message, ct);
            case "help":
                return Help(IsAdmin(message.ChatId));
            case "latest":
                return await LatestAsync(argument, ct);
            case "topic" when argument.Length == 0:
                return Reply($"Which topic? For example <code>/topic {HtmlText.Escape(topics.Names.FirstOrDefault() ?? "sanctions")}</code>, or any words. /topics lists them.");
            case "topic":
                return await TopicAsync(argument, ct);
            case "topics":
                return await TopicsAsync(message, ct);
            case "search" when argument.Length == 0:
                return Reply("Search for what? For example <code>/search missile test</code>.");
            case "search":
                return PostList($"Posts matching <b>{HtmlText.Escape(argument)}</b>", await posts.SearchAsync(argument, ListCount, ct),
                    $"No post matches <b>{HtmlText.Escape(argument)}</b>.");
            case "subscribe" when argument.Length == 0:
                return Reply($"Subscribe to what? <code>/subscribe &lt;topic&gt;</code> or <code>/subscribe all</code>. Topics: {KnownTopics()}.");
            case "subscribe":
                return await SubscribeAsync(message, argument, ct);
            case "unsubscribe" when argument.Length == 0:
                return Reply($"Unsubscribe from what? <code>/unsubscribe &lt;topic&gt;</code> or <code>/unsubscribe all</code>. Topics: {KnownTopics()}.");
            case "unsubscribe":
                return await UnsubscribeAsync(message, argument, ct);
            case "digest":
                return await DigestAsync(message, argument, ct);
            case "settings":
                return await SettingsAsync(message, ct);
            case "stop":
                return await StopAsync(message, ct);
            case "stats" or "send" or "preview" when !IsAdmin(message.ChatId):
                return AdminOnly();
            case "stats":
                return await StatsAsync(ct);
            case "send":
                return await SendAsync(argument, message.FromUserId, ct);
            case "preview":
                return await PreviewAsync(argument, ct);
            // Bot API BotCommand: a command is 1-32 characters, so a longer word is not echoed back.
            case { Length: 0 or > MaxCommandLength }:
                return Reply("That is not a command I know. Send /help for the commands.");
            default:
                return Reply($"I do not know /{HtmlText.Escape(command)}. Send /help for the commands.");
        }
    }

    private async Task<BotReply> StartAsync(IncomingMessage message, CancellationToken ct)
    {
        var welcome = "<b>Welcome!</b> I send you every new post of the blog, on the topics you choose: right away or as a daily or weekly digest.";
        if (!CanChange(message))
        {
            return Reply(welcome + "\n\nOnly an admin of this group can subscribe it. Meanwhile: /latest, /topic, /search, /help.");
        }

        var subscriber = await subscribers.FindByAddressAsync(Channels.Telegram, ChatAddress(message.ChatId), ct);
        string status;
        if (subscriber is null)
        {
            await subscribers.AddAsync(new NewSubscriber(null, message.ChatId, [], Cadence.Instant, Name: message.FromUsername), ct);
            status = "This chat now gets <b>every topic</b>, each post as it appears. Pick topics below to narrow it, /digest to get a digest instead.";
        }
        else if (TelegramStatus(subscriber) is ChannelStatus.Active)
        {
            status = "This chat is already subscribed. /settings shows how.";
        }
        else
        {
            await subscribers.SetChannelStatusAsync(Channels.Telegram, ChatAddress(message.ChatId), ChannelStatus.Active, ct);
            status = "Welcome back: this chat is subscribed again with its earlier settings (/settings).";
        }

        return new BotReply($"{welcome}\n\n{status}\n\nChoose topics:", TopicKeyboard([], includeAll: true));
    }

    private static BotReply Help(bool isAdmin)
    {
        var text = new StringBuilder("""
            <b>Commands</b>
            /latest [n] - the newest posts (5, at most 20)
            /topic &lt;topic or words&gt; - recent posts of a topic, or a search
            /topics - all topics, to subscribe with a tap
            /search &lt;words&gt; - full-text search
            /subscribe &lt;topic|all&gt; - add a topic (all: every topic)
            /unsubscribe &lt;topic|all&gt; - drop a topic (all: stop)
            /digest instant|daily|weekly|off - how often you get posts
            /settings - your topics, cadence and time zone
            /stop - stop all messages (/start to come back)
            """);
        if (isAdmin)
        {
            text.Append("\n\n").Append("""
                <b>Admin</b>
                /stats - subscribers, posts and the latest sends
                /send latest|&lt;post id&gt; - send a post to its subscribers, after a confirmation
                /preview &lt;post id&gt; - the post as subscribers get it
                """);
        }

        return Reply(text.ToString());
    }

    private async Task<BotReply> LatestAsync(string argument, CancellationToken ct)
    {
        var count = DefaultLatest;
        if (argument.Length > 0 && (!int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > MaxLatest))
        {
            return Reply($"<code>/latest {HtmlText.Escape(argument)}</code>: give a number from 1 to {MaxLatest}, e.g. <code>/latest 10</code>.");
        }

        return PostList("<b>Latest posts</b>", await posts.LatestAsync(count, null, ct), "No posts yet.");
    }

    private async Task<BotReply> TopicAsync(string argument, CancellationToken ct)
    {
        if (topics.TryFind(argument, out var topic))
        {
            return PostList($"<b>{HtmlText.Escape(topic.Name)}</b>: recent posts", await posts.LatestAsync(ListCount, topic.Name, ct),
                $"No posts on <b>{HtmlText.Escape(topic.Name)}</b> yet.");
        }

        return PostList($"<b>{HtmlText.Escape(argument)}</b> is not a topic; posts matching it", await posts.SearchAsync(argument, ListCount, ct),
            $"<b>{HtmlText.Escape(argument)}</b> is not a topic and no post matches it. Topics: {KnownTopics()}.");
    }

    private async Task<BotReply> TopicsAsync(IncomingMessage message, CancellationToken ct)
    {
        var subscriber = await subscribers.FindByAddressAsync(Channels.Telegram, ChatAddress(message.ChatId), ct);
        var mine = subscriber?.Topics ?? [];
        var lines = topics.Names.Select(name => (mine.Contains(name) ? "✅ " : "• ") + HtmlText.Escape(name)).ToList();
        var footer = subscriber is null
            ? "Not subscribed yet: tap a topic, or /start."
            : mine.Count == 0 ? "You get every topic; tap one to get only the topics you pick." : "✅ = yours. Tap to add or remove.";
        return new BotReply(Fit("<b>Topics</b>", lines, footer, "\n"), TopicKeyboard(mine, includeAll: mine.Count > 0));
    }

    private async Task<BotReply> SubscribeAsync(IncomingMessage message, string argument, CancellationToken ct)
    {
        if (!CanChange(message))
        {
            return GroupAdminOnly();
        }

        if (await ConfiguredAsync(message, ct) is { } configured)
        {
            return configured;
        }

        var all = argument.Equals("all", StringComparison.OrdinalIgnoreCase);
        TopicOptions? topic = null;
        if (!all && !topics.TryFind(argument, out topic))
        {
            return Reply($"There is no topic <b>{HtmlText.Escape(argument)}</b>. Topics: {KnownTopics()}.");
        }

        var subscriber = await EnsureSubscriberAsync(message, ct);
        if (all)
        {
            await subscribers.SetTopicsAsync(subscriber.Id, [], ct);
            return Reply("You now get <b>every topic</b>.");
        }

        // An empty topic list means every topic, so the first pick narrows it to that one topic.
        var chosen = subscriber.Topics.Contains(topic!.Name) ? subscriber.Topics : [.. subscriber.Topics, topic.Name];
        await subscribers.SetTopicsAsync(subscriber.Id, chosen, ct);
        return Reply($"Subscribed to <b>{HtmlText.Escape(topic.Name)}</b>. Your topics: {TopicNames(chosen)}.");
    }

    private async Task<BotReply> UnsubscribeAsync(IncomingMessage message, string argument, CancellationToken ct)
    {
        if (!CanChange(message))
        {
            return GroupAdminOnly();
        }

        if (await ConfiguredAsync(message, ct) is { } configured)
        {
            return configured;
        }

        if (argument.Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            return await StopAsync(message, ct);
        }

        if (!topics.TryFind(argument, out var topic))
        {
            return Reply($"There is no topic <b>{HtmlText.Escape(argument)}</b>. Topics: {KnownTopics()}.");
        }

        var subscriber = await subscribers.FindByAddressAsync(Channels.Telegram, ChatAddress(message.ChatId), ct);
        if (subscriber is null)
        {
            return Reply("This chat is not subscribed. /start subscribes it.");
        }

        if (subscriber.Topics.Count == 0)
        {
            var others = topics.Names.Where(n => n != topic.Name).ToList();
            await subscribers.SetTopicsAsync(subscriber.Id, others, ct);
            return Reply($"Unsubscribed from <b>{HtmlText.Escape(topic.Name)}</b>. Your topics: {TopicNames(others)}.");
        }

        if (!subscriber.Topics.Contains(topic.Name))
        {
            return Reply($"You are not subscribed to <b>{HtmlText.Escape(topic.Name)}</b>. Your topics: {TopicNames(subscriber.Topics)}.");
        }

        if (subscriber.Topics.Count == 1)
        {
            // No topics at all would mean every topic (the store's rule), the opposite of what was asked.
            return Reply($"<b>{HtmlText.Escape(topic.Name)}</b> is your only topic. Subscribe to another first, or /stop to get nothing.");
        }

        var remaining = subscriber.Topics.Where(n => n != topic.Name).ToList();
        await subscribers.SetTopicsAsync(subscriber.Id, remaining, ct);
        return Reply($"Unsubscribed from <b>{HtmlText.Escape(topic.Name)}</b>. Your topics: {TopicNames(remaining)}.");
    }

    private async Task<BotReply> DigestAsync(IncomingMessage message, string argument, CancellationToken ct)
    {
        Cadence? cadence = argument.ToLowerInvariant() switch
        {
            "instant" => Cadence.Instant,
            "daily" => Cadence.Daily,
            "weekly" => Cadence.Weekly,
            "off" => Cadence.Off,
            _ => null,
        };
        if (cadence is null)
        {
            return Reply("<code>/digest instant</code> (each post as it appears), <code>/digest daily</code>, <code>/digest weekly</code> or <code>/digest off</code>.");
        }

        if (!CanChange(message))
        {
            return GroupAdminOnly();
        }

        if (await ConfiguredAsync(message, ct) is { } configured)
        {
            return configured;
        }

        var subscriber = await EnsureSubscriberAsync(message, ct);
        await subscribers.SetCadenceAsync(subscriber.Id, cadence.Value, ct);
        return Reply($"Cadence set: <b>{CadenceName(cadence.Value)}</b>.");
    }

    private async Task<BotReply> SettingsAsync(IncomingMessage message, CancellationToken ct)
    {
        var subscriber = await subscribers.FindByAddressAsync(Channels.Telegram, ChatAddress(message.ChatId), ct);
        if (subscriber is null)
        {
            return Reply("This chat is not subscribed. /start subscribes it.");
        }

        var status = TelegramStatus(subscriber) is ChannelStatus.Active ? "active" : "stopped (/start to resume)";
        return Reply($"""
            <b>Your settings</b>
            Topics: {(subscriber.Topics.Count == 0 ? "all topics" : TopicNames(subscriber.Topics))}
            Cadence: {CadenceName(subscriber.Cadence)}
            Time zone: {HtmlText.Escape(subscriber.TimeZone)}
            Status: {status}
            """);
    }

    private async Task<BotReply> StopAsync(IncomingMessage message, CancellationToken ct)
    {
        if (!CanChange(message))
        {
            return GroupAdminOnly();
        }

        if (await ConfiguredAsync(message, ct) is { } configured)
        {
            return configured;
        }

        if (await subscribers.FindByAddressAsync(Channels.Telegram, ChatAddress(message.ChatId), ct) is null)
        {
            return Reply("This chat is not subscribed; nothing to stop.");
        }

        await subscribers.SetChannelStatusAsync(Channels.Telegram, ChatAddress(message.ChatId), ChannelStatus.Unsubscribed, ct);
        return Reply("Stopped: this chat gets no more posts. /start to come back with the same settings.");
    }

    private async Task<BotReply> StatsAsync(CancellationToken ct)
    {
        var subscriberCount = await subscribers.CountAsync(ct);
        var postCount = await posts.CountAsync(ct);
        var lines = new List<string>();
        foreach (var send in await deliveries.ListLatestSendsAsync(StatsSends, ct))
        {
            var counts = await deliveries.CountStatesAsync(send.Id, ct);
            var states = string.Join(", ", counts.Where(c => c.Value > 0).Select(c => $"{DeliveryStore.StateName(c.Key)} {c.Value}"));
            var what = send.PostId is { } postId ? $"post {postId}" : $"{send.Kind} {send.Cadence?.ToString().ToLowerInvariant()}";
            lines.Add($"#{send.Id} {HtmlText.Escape(what)} ({send.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC): {(states.Length == 0 ? "no rows" : states)}");
        }

        var header = $"<b>Stats</b>\nSubscribers: {subscriberCount}\nPosts: {postCount}\n\n<b>Latest sends</b>";
        return lines.Count == 0 ? Reply(header + "\nnone yet") : Reply(Fit(header, lines, null));
    }

    private async Task<BotReply> SendAsync(string argument, long userId, CancellationToken ct)
    {
        long postId;
        if (argument.Equals("latest", StringComparison.OrdinalIgnoreCase))
        {
            var latest = await posts.LatestAsync(1, null, ct);
            if (latest.Count == 0)
            {
                return Reply("There are no posts yet: poll a feed first.");
            }

            postId = latest[0].Id;
        }
        else if (!long.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out postId))
        {
            return Reply("<code>/send latest</code> or <code>/send &lt;post id&gt;</code> (ids: /latest, or the CLI's <code>posts latest</code>).");
        }

        var post = await posts.GetAsync(postId, ct);
        if (post is null)
        {
            return Reply($"There is no post {postId}.");
        }

        var plan = await admin.CreateSendAsync(new AdminSendRequest("post", postId, null, null, null, DryRun: true), RequestedBy(userId), ct);
        if (plan.Audience.Values.Sum() == 0)
        {
            return Reply($"No subscriber would get {PostLink(post)} (post {postId}): nothing to send.");
        }

        return new BotReply(
            $"Send {PostLink(post)} (post {postId}) to {Audience(plan.Audience)}? Done by about {Eta(plan.Eta)}.\nNothing is sent until you confirm.",
            [[new InlineButton("Confirm send", $"send:{postId}")]]);
    }

    private async Task<BotReply> PreviewAsync(string argument, CancellationToken ct)
    {
        if (!long.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out var postId))
        {
            return Reply("<code>/preview &lt;post id&gt;</code> (ids: /latest).");
        }

        // The rendered Telegram message is already escaped HTML from the template renderer.
        var rendered = await admin.PreviewPostAsync(postId, "telegram", ct);
        return new BotReply(rendered.Personalise(AdminService.PreviewLinks), DisableLinkPreview: false);
    }

    private async Task<Subscriber> EnsureSubscriberAsync(IncomingMessage message, CancellationToken ct)
    {
        var address = ChatAddress(message.ChatId);
        if (await subscribers.FindByAddressAsync(Channels.Telegram, address, ct) is { } found)
        {
            return found;
        }

        await subscribers.AddAsync(new NewSubscriber(null, message.ChatId, [], Cadence.Instant, Name: message.FromUsername), ct);
        return await subscribers.FindByAddressAsync(Channels.Telegram, address, ct)
            ?? throw new InvalidOperationException($"Telegram chat {address} vanished right after it was added.");
    }

    private BotReply PostList(string header, IReadOnlyList<Post> list, string empty) =>
        list.Count == 0 ? Reply(empty) : Reply(Fit(header, [.. list.Select(PostLine)], null));

    private static string PostLine(Post post)
    {
        var date = (post.Published ?? post.FirstSeen).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var tags = post.Topics.Count == 0 ? "" : " · " + HtmlText.Escape(string.Join(", ", post.Topics));
        return $"{PostLink(post)}\n<i>{date}{tags}</i> · <code>{post.Id}</code>";
    }

    private static string PostLink(Post post)
    {
        var url = HtmlText.SafeUrl(post.Url);
        var title = HtmlText.Escape(string.IsNullOrWhiteSpace(post.Title) ? "(untitled)" : post.Title);
        // Telegram refuses a message whose link is not a URL, so an unsafe or missing one leaves the title unlinked.
        return url == "#" ? $"<b>{title}</b>" : $"<a href=\"{HtmlText.Escape(url)}\">{title}</a>";
    }

    /// <summary>
    /// The header, then as many whole entries as fit in <see cref="MaxLength"/> visible characters, then
    /// "…and N more" for the rest.
    /// </summary>
    private static string Fit(string header, IReadOnlyList<string> entries, string? footer, string separator = "\n\n")
    {
        var tail = footer is null ? "" : "\n\n" + footer;
        var builder = new StringBuilder(header);
        var length = HtmlText.VisibleLength(header) + HtmlText.VisibleLength(tail);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = (i == 0 ? "\n\n" : separator) + entries[i];
            var more = i + 1 < entries.Count ? $"\n\n…and {entries.Count - i - 1} more" : "";
            var entryLength = HtmlText.VisibleLength(entry);
            if (length + entryLength + more.Length > MaxLength)
            {
                builder.Append($"\n\n…and {entries.Count - i} more");
                return builder.Append(tail).ToString();
            }

            builder.Append(entry);
            length += entryLength;
        }

        return builder.Append(tail).ToString();
    }

    private List<IReadOnlyList<InlineButton>> TopicKeyboard(IReadOnlyList<string> mine, bool includeAll)
    {
        var buttons = new List<InlineButton>();
        foreach (var name in topics.Names)
        {
            var has = mine.Contains(name);
            var data = (has ? "unsub:" : "sub:") + name;
            if (Encoding.UTF8.GetByteCount(data) <= MaxCallbackBytes)
            {
                buttons.Add(new InlineButton(has ? "✅ " + name : name, data));
            }
        }

        List<IReadOnlyList<InlineButton>> rows = [.. buttons.Chunk(2).Select(row => (IReadOnlyList<InlineButton>)row)];
        if (includeAll)
        {
            rows.Add([new InlineButton("All topics", "sub:all")]);
        }

        return rows;
    }

    private static BotReply Reply(string text) => new(text);

    private static BotReply AdminOnly() => Reply("That command is for the bot's admins only. Send /help for the commands.");

    private static BotReply GroupAdminOnly() => Reply(
        "In a group only a chat admin can change what the group gets: ask one to send the command. Anyone can use /latest, /topic and /search.");

    /// <summary>A chat in <c>NewsBot:Telegram:Channels</c> gets what the configuration says; a command would be undone at the next start.</summary>
    private async Task<BotReply?> ConfiguredAsync(IncomingMessage message, CancellationToken ct) =>
        await subscribers.FindByAddressAsync(Channels.Telegram, ChatAddress(message.ChatId), ct) is { Broadcast: true }
            ? Reply("This chat gets posts as set in the bot's configuration (NewsBot:Telegram:Channels); ask the bot's operator to change its topics.")
            : null;

    private bool IsAdmin(long chatId) => settings.AdminChatIds.Contains(chatId);

    // Channel posts carry no sender, and only a channel's admins can post there.
    private static bool CanChange(IncomingMessage message) => message.ChatType is "private" or "channel" || message.FromChatAdmin;

    private static string ChatAddress(long chatId) => chatId.ToString(CultureInfo.InvariantCulture);

    private static ChannelStatus? TelegramStatus(Subscriber subscriber) =>
        subscriber.Channels.FirstOrDefault(c => c.Channel == Channels.Telegram)?.Status;

    private static string RequestedBy(long userId) => $"telegram:{userId.ToString(CultureInfo.InvariantCulture)}";

    private string KnownTopics() => TopicNames(topics.Names);

    private static string TopicNames(IEnumerable<string> names) => HtmlText.Escape(string.Join(", ", names));

    private static string CadenceName(Cadence cadence) => cadence switch
    {
        Cadence.Instant => "each post as it appears",
        Cadence.Daily => "daily digest",
        Cadence.Weekly => "weekly digest",
        _ => "off (no posts)",
    };

    private static string Audience(IReadOnlyDictionary<string, int> audience)
    {
        var total = audience.Values.Sum();
        var parts = string.Join(", ", audience.Where(a => a.Value > 0).Select(a => $"{a.Value} by {HtmlText.Escape(a.Key)}"));
        return total == 1 ? $"1 recipient ({parts})" : total == 0 ? "no recipients" : $"{total} recipients ({parts})";
    }

    private static string Eta(DateTimeOffset eta) => eta.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
}
