using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace NewsBot.Tests.Telegram;

/// <summary>
/// An in-process Bot API server (Kestrel on 127.0.0.1, an OS-chosen port) that answers like Telegram
/// (https://core.telegram.org/bots/api#making-requests): <c>/bot{token}/{method}</c> with JSON, form or query
/// parameters, <c>{"ok":true,"result":...}</c> or <c>{"ok":false,"error_code","description","parameters"}</c>.
/// It checks parse_mode HTML as Telegram does (https://core.telegram.org/bots/api#html-style), counts the text after
/// entity parsing in UTF-16 code units, enforces configurable flood limits with 429 and retry_after, and answers for
/// blocked, unknown and migrated chats. Every accepted message is recorded. Shared with the benchmarks.
/// </summary>
public sealed partial class FakeBotApi : IAsyncDisposable
{
    public const string DefaultToken = "123456:TEST-fake_bot_token";

    /// <summary>Bot API: messages of a group's anonymous admins come "from" this user, with sender_chat the group.</summary>
    public const long GroupAnonymousBotId = 1087968824;

    /// <summary>Bot API: "Text of the message to be sent, 1-4096 characters after entities parsing".</summary>
    public const int MaxTextLength = 4096;

    private static readonly Dictionary<string, string?> EntityTypes = new(StringComparer.Ordinal)
    {
        ["b"] = "bold",
        ["strong"] = "bold",
        ["i"] = "italic",
        ["em"] = "italic",
        ["u"] = "underline",
        ["ins"] = "underline",
        ["s"] = "strikethrough",
        ["strike"] = "strikethrough",
        ["del"] = "strikethrough",
        ["a"] = "text_link",
        ["code"] = "code",
        ["pre"] = "pre",
        ["blockquote"] = "blockquote",
        ["tg-spoiler"] = "spoiler",
        ["span"] = "spoiler",
        ["tg-emoji"] = "custom_emoji",
    };

    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Bucket _global = new();
    private readonly Dictionary<long, Bucket> _perChat = [];
    private readonly Dictionary<long, Bucket> _perGroup = [];
    private readonly HashSet<long> _blocked = [];
    private readonly HashSet<long> _knownChats = [];
    private readonly Dictionary<long, long> _migrated = [];
    private readonly Dictionary<string, long> _usernames = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<long, string> _channels = [];
    private readonly Dictionary<(long Chat, long User), string> _members = [];
    private readonly Queue<int> _failures = new();
    private readonly List<JsonObject> _updates = [];
    private TaskCompletionSource? _currentPoll;
    private int _pollConflicts;
    private TaskCompletionSource _updateArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextUpdateId = 1;
    private int _nextMessageId;
    private int _tooManyRequests;

    private FakeBotApi(WebApplication app, string token)
    {
        _app = app;
        Token = token;
    }

    public string Token { get; }

    /// <summary>The server's root, for <c>NewsBot:Telegram:ApiBaseUrl</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>Messages per second over all chats (0: no limit). Telegram: about 30.</summary>
    public int MessagesPerSecond { get; set; }

    /// <summary>Messages per second to one chat (0: no limit). Telegram: about 1.</summary>
    public int PerChatPerSecond { get; set; }

    /// <summary>Messages per minute to one group, a negative chat id (0: no limit). Telegram: 20.</summary>
    public int GroupMessagesPerMinute { get; set; }

    /// <summary>False: only chats passed to <see cref="AddChat"/> exist, others are "chat not found".</summary>
    public bool AnyChatExists { get; set; } = true;

    /// <summary>How long each answer to sendMessage is held back (a slow or hanging Telegram).</summary>
    public TimeSpan SendDelay { get; set; }

    /// <summary>Longest wait of a getUpdates long poll, whatever timeout the client asks for.</summary>
    public TimeSpan LongPollCap { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Every message accepted by sendMessage, in acceptance order.</summary>
    public ConcurrentQueue<AcceptedMessage> Messages { get; } = new();

    /// <summary>How many 429 answers were given.</summary>
    public int TooManyRequests => Volatile.Read(ref _tooManyRequests);

    /// <summary>How many long polls a second getUpdates cut short with 409 Conflict (two pollers of one bot).</summary>
    public int PollConflicts => Volatile.Read(ref _pollConflicts);

    /// <summary>The last setMyCommands <c>commands</c> parameter as sent (JSON).</summary>
    public string? Commands { get; private set; }

    /// <summary>The webhook set by setWebhook, null after deleteWebhook.</summary>
    public string? WebhookUrl { get; private set; }

    public static async Task<FakeBotApi> StartAsync(string token = DefaultToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Testing",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var app = builder.Build();
        var fake = new FakeBotApi(app, token);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        fake.BaseUrl = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>()
            .Addresses.Single().TrimEnd('/');
        return fake;
    }

    /// <summary>The chat has blocked the bot: 403 from now on.</summary>
    public void Block(long chatId)
    {
        lock (_gate)
        {
            _blocked.Add(chatId);
        }
    }

    /// <summary>A chat that exists when <see cref="AnyChatExists"/> is false.</summary>
    public void AddChat(long chatId)
    {
        lock (_gate)
        {
            _knownChats.Add(chatId);
        }
    }

    /// <summary>
    /// A public channel <c>@username</c> with id <paramref name="chatId"/> (-100...). The bot posts there only as its
    /// creator or an administrator (<see cref="SetMember"/> with <see cref="BotId"/>); otherwise sendMessage answers 403.
    /// </summary>
    public void AddChannel(long chatId, string username)
    {
        lock (_gate)
        {
            _channels[chatId] = username.TrimStart('@');
            _usernames[username.TrimStart('@')] = chatId;
            _knownChats.Add(chatId);
        }
    }

    /// <summary>
    /// The status getChatMember gives for <paramref name="userId"/> in <paramref name="chatId"/>: <c>creator</c>,
    /// <c>administrator</c>, <c>member</c>, <c>left</c> or <c>kicked</c>. Unset: <c>member</c> in groups, <c>left</c> in channels.
    /// </summary>
    public void SetMember(long chatId, long userId, string status)
    {
        if (status is not ("creator" or "administrator" or "member" or "left" or "kicked"))
        {
            throw new ArgumentException($"status '{status}' is not one the fake gives: creator, administrator, member, left, kicked", nameof(status));
        }

        lock (_gate)
        {
            _members[(chatId, userId)] = status;
        }
    }

    /// <summary>The bot's own user id, the token's digits before the colon.</summary>
    public long BotId => long.Parse(Token[..Token.IndexOf(':')], CultureInfo.InvariantCulture);

    /// <summary>The group was upgraded to a supergroup: the old id answers 400 with migrate_to_chat_id.</summary>
    public void Migrate(long groupId, long supergroupId)
    {
        lock (_gate)
        {
            _migrated[groupId] = supergroupId;
        }
    }

    /// <summary>The next <paramref name="count"/> sendMessage requests fail with <paramref name="statusCode"/> (a 5xx, or 429 with retry_after 1).</summary>
    public void FailNextSends(int count, int statusCode = 500)
    {
        lock (_gate)
        {
            for (var i = 0; i < count; i++)
            {
                _failures.Enqueue(statusCode);
            }
        }
    }

    /// <summary>Queues an update for getUpdates and returns its update_id.</summary>
    public long EnqueueUpdate(JsonObject update)
    {
        ArgumentNullException.ThrowIfNull(update);
        TaskCompletionSource arrived;
        long id;
        lock (_gate)
        {
            id = _nextUpdateId++;
            var copy = (JsonObject)update.DeepClone();
            copy["update_id"] = id;
            _updates.Add(copy);
            arrived = _updateArrived;
            _updateArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        arrived.TrySetResult();
        return id;
    }

    /// <summary>Queues a text message from a user in a private chat (a command when it starts with '/').</summary>
    public long EnqueueMessage(long chatId, string text) => EnqueueMessage(chatId, chatId, text);

    /// <summary>Queues a text message from user <paramref name="fromUserId"/> in chat <paramref name="chatId"/> (a group when negative).</summary>
    public long EnqueueMessage(long chatId, long fromUserId, string text) =>
        EnqueueText(chatId, new JsonObject { ["id"] = fromUserId, ["is_bot"] = false, ["first_name"] = "Reader" }, null, text);

    /// <summary>
    /// Queues a message an anonymous admin sent in group <paramref name="groupId"/>. Bot API Message: sender_chat is
    /// "the supergroup itself for messages sent by its anonymous administrators", and from "contains a fake sender
    /// user in non-channel chats" (@GroupAnonymousBot).
    /// </summary>
    public long EnqueueAnonymousAdminMessage(long groupId, string text) => EnqueueText(
        groupId,
        new JsonObject { ["id"] = GroupAnonymousBotId, ["is_bot"] = true, ["first_name"] = "Group", ["username"] = "GroupAnonymousBot" },
        Chat(groupId),
        text);

    private long EnqueueText(long chatId, JsonObject from, JsonObject? senderChat, string text)
    {
        var message = new JsonObject
        {
            ["message_id"] = Interlocked.Increment(ref _nextMessageId),
            ["date"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["chat"] = Chat(chatId),
            ["from"] = from,
            ["text"] = text,
        };
        if (senderChat is not null)
        {
            message["sender_chat"] = senderChat;
        }

        if (text.StartsWith('/'))
        {
            var length = text.IndexOfAny([' ', '\n']) is var end and >= 0 ? end : text.Length;
            message["entities"] = new JsonArray(new JsonObject { ["type"] = "bot_command", ["offset"] = 0, ["length"] = length });
        }

        return EnqueueUpdate(new JsonObject { ["message"] = message });
    }

    /// <summary>
    /// Parses Telegram's HTML style into the text the reader sees and its entities, or returns the error Telegram
    /// gives. Only Telegram's tags are allowed, balanced; entities are &amp;lt; &amp;gt; &amp;amp; &amp;quot; and numeric ones.
    /// </summary>
    public static string? ParseHtml(string html, out string text, out JsonArray entities)
    {
        var plain = new StringBuilder(html.Length);
        entities = [];
        text = "";
        var open = new Stack<(string Name, int Offset, string? Url, string? EmojiId, int At)>();
        var i = 0;
        while (i < html.Length)
        {
            var c = html[i];
            if (c == '<')
            {
                var at = Encoding.UTF8.GetByteCount(html.AsSpan(0, i));
                var close = html.IndexOf('>', i + 1);
                if (close < 0)
                {
                    return $"Can't find end of the tag starting at byte offset {at}";
                }

                var tag = html[(i + 1)..close];
                i = close + 1;
                if (tag.StartsWith('/'))
                {
                    var endName = tag[1..].Trim().ToLowerInvariant();
                    if (open.Count == 0)
                    {
                        return $"Unexpected end tag at byte offset {at}";
                    }

                    var start = open.Pop();
                    if (start.Name != endName)
                    {
                        return $"Unmatched end tag at byte offset {at}, expected \"</{start.Name}>\", found \"</{endName}>\"";
                    }

                    var length = plain.Length - start.Offset;
                    if (length > 0)
                    {
                        var entity = new JsonObject { ["type"] = EntityTypes[start.Name], ["offset"] = start.Offset, ["length"] = length };
                        if (start.Url is not null)
                        {
                            entity["url"] = start.Url;
                        }

                        if (start.EmojiId is not null)
                        {
                            entity["custom_emoji_id"] = start.EmojiId;
                        }

                        entities.Add(entity);
                    }

                    continue;
                }

                var name = TagName().Match(tag).Value.ToLowerInvariant();
                var attributes = Attribute().Matches(tag[name.Length..])
                    .ToDictionary(m => m.Groups[1].Value.ToLowerInvariant(), m => WebUtility.HtmlDecode(m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value));
                var supported = name switch
                {
                    "a" => attributes.ContainsKey("href"),
                    "span" => attributes.TryGetValue("class", out var css) && css == "tg-spoiler",
                    "tg-emoji" => attributes.ContainsKey("emoji-id"),
                    _ => EntityTypes.ContainsKey(name),
                };
                if (!supported)
                {
                    return $"Unsupported start tag \"{name}\" at byte offset {at}";
                }

                open.Push((name, plain.Length, name == "a" ? attributes["href"] : null, name == "tg-emoji" ? attributes["emoji-id"] : null, at));
                continue;
            }

            if (c == '&')
            {
                var at = Encoding.UTF8.GetByteCount(html.AsSpan(0, i));
                var semicolon = html.IndexOf(';', i + 1);
                var entity = semicolon > i && semicolon - i <= 10 ? html[(i + 1)..semicolon] : null;
                var decoded = entity switch
                {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "quot" => "\"",
                    ['#', 'x' or 'X', .. var hex] when int.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code) => CodePoint(code),
                    ['#', .. var digits] when int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var code) => CodePoint(code),
                    _ => null,
                };
                if (decoded is null)
                {
                    return entity is null
                        ? $"Character entity expected at byte offset {at}: write & as &amp;"
                        : $"Unsupported HTML entity \"&{entity};\" at byte offset {at}";
                }

                plain.Append(decoded);
                i = semicolon + 1;
                continue;
            }

            plain.Append(c);
            i++;
        }

        if (open.Count > 0)
        {
            var unclosed = open.Pop();
            return $"Can't find end tag corresponding to start tag \"{unclosed.Name}\" at byte offset {unclosed.At}";
        }

        text = plain.ToString();
        var sorted = entities.OrderBy(e => (int)e!["offset"]!).Select(e => e!.DeepClone()).ToArray();
        entities = new JsonArray(sorted);
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9-]*")]
    private static partial Regex TagName();

    [GeneratedRegex(@"([A-Za-z-]+)\s*(?:=\s*(?:""([^""]*)""|'([^']*)'|[^\s""'>]+))?")]
    private static partial Regex Attribute();

    private static string? CodePoint(int code) =>
        code is > 0 and <= 0x10FFFF and not (>= 0xD800 and <= 0xDFFF) ? char.ConvertFromUtf32(code) : null;

    private JsonObject Chat(long chatId)
    {
        lock (_gate)
        {
            var chat = new JsonObject
            {
                ["id"] = chatId,
                // Bot API Chat.type; supergroup and channel ids are -100 followed by the id.
                ["type"] = _channels.ContainsKey(chatId) ? "channel" : chatId > 0 ? "private" : chatId <= -1_000_000_000_000 ? "supergroup" : "group",
            };
            if (_channels.TryGetValue(chatId, out var username))
            {
                chat["title"] = "Channel " + username;
                chat["username"] = username;
            }
            else if (chatId < 0)
            {
                chat["title"] = $"Group {-chatId}";
            }
            else
            {
                chat["first_name"] = "Reader";
            }

            return chat;
        }
    }

    /// <summary>A chat_id parameter: an integer, or a channel's <c>@username</c>; null for an unknown username.</summary>
    private long? ChatIdOf(string value)
    {
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var id))
        {
            return id;
        }

        lock (_gate)
        {
            return value.StartsWith('@') && _usernames.TryGetValue(value[1..], out var known) ? known : null;
        }
    }

    private bool ChatExists(long chatId)
    {
        lock (_gate)
        {
            return AnyChatExists || _knownChats.Contains(chatId);
        }
    }

    private string MemberStatus(long chatId, long userId)
    {
        lock (_gate)
        {
            return _members.TryGetValue((chatId, userId), out var status) ? status : _channels.ContainsKey(chatId) ? "left" : "member";
        }
    }

    /// <summary>Bot API getChat: a ChatFullInfo with its required fields.</summary>
    private async Task GetChatAsync(HttpContext context, Dictionary<string, string> parameters)
    {
        if (ChatIdOf(parameters.GetValueOrDefault("chat_id") ?? "") is not { } chatId || !ChatExists(chatId))
        {
            await WriteErrorAsync(context, 400, "Bad Request: chat not found", null);
            return;
        }

        var chat = Chat(chatId);
        chat["accent_color_id"] = 0;
        chat["max_reaction_count"] = 11;
        chat["accepted_gift_types"] = new JsonObject
        {
            ["unlimited_gifts"] = false,
            ["limited_gifts"] = false,
            ["unique_gifts"] = false,
            ["premium_subscription"] = false,
            ["gifts_from_channels"] = false,
        };
        await WriteResultAsync(context, chat);
    }

    /// <summary>Bot API getChatMember: ChatMemberOwner, ChatMemberAdministrator, ChatMemberMember, ChatMemberLeft or ChatMemberBanned.</summary>
    private async Task GetChatMemberAsync(HttpContext context, Dictionary<string, string> parameters)
    {
        if (ChatIdOf(parameters.GetValueOrDefault("chat_id") ?? "") is not { } chatId || !ChatExists(chatId))
        {
            await WriteErrorAsync(context, 400, "Bad Request: chat not found", null);
            return;
        }

        if (!long.TryParse(parameters.GetValueOrDefault("user_id"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var userId))
        {
            await WriteErrorAsync(context, 400, "Bad Request: user_id is empty", null);
            return;
        }

        var status = MemberStatus(chatId, userId);
        var member = new JsonObject
        {
            ["status"] = status,
            ["user"] = new JsonObject { ["id"] = userId, ["is_bot"] = userId == BotId, ["first_name"] = userId == BotId ? "NewsBot Test" : "Reader" },
        };
        switch (status)
        {
            case "creator":
                member["is_anonymous"] = false;
                break;
            case "administrator":
                foreach (var right in (string[])["can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                    "can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories"])
                {
                    member[right] = right is "can_manage_chat" or "can_delete_messages";
                }

                if (_channels.ContainsKey(chatId))
                {
                    member["can_post_messages"] = true;
                    member["can_edit_messages"] = false;
                }

                break;
            case "kicked":
                member["until_date"] = 0;
                break;
        }

        await WriteResultAsync(context, member);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var slash = path.IndexOf('/', 1);
        if (!path.StartsWith("/bot", StringComparison.Ordinal) || slash < 0 || path[4..slash] != Token)
        {
            await WriteErrorAsync(context, 401, "Unauthorized", null);
            return;
        }

        var parameters = await ReadParametersAsync(context.Request);
        var method = path[(slash + 1)..];
        switch (method.ToLowerInvariant())
        {
            case "getme":
                await WriteResultAsync(context, new JsonObject
                {
                    ["id"] = long.Parse(Token[..Token.IndexOf(':')], CultureInfo.InvariantCulture),
                    ["is_bot"] = true,
                    ["first_name"] = "NewsBot Test",
                    ["username"] = "newsbot_test_bot",
                    ["can_join_groups"] = true,
                    ["can_read_all_group_messages"] = false,
                    ["supports_inline_queries"] = false,
                });
                break;
            case "sendmessage":
                await SendMessageAsync(context, parameters);
                break;
            case "getchat":
                await GetChatAsync(context, parameters);
                break;
            case "getchatmember":
                await GetChatMemberAsync(context, parameters);
                break;
            case "getupdates":
                await GetUpdatesAsync(context, parameters);
                break;
            case "setmycommands":
                if (!parameters.TryGetValue("commands", out var commands))
                {
                    await WriteErrorAsync(context, 400, "Bad Request: parameter \"commands\" is required", null);
                    break;
                }

                Commands = commands;
                await WriteResultAsync(context, true);
                break;
            case "setwebhook":
                WebhookUrl = parameters.GetValueOrDefault("url");
                await WriteResultAsync(context, true);
                break;
            case "deletewebhook":
                WebhookUrl = null;
                await WriteResultAsync(context, true);
                break;
            default:
                await WriteErrorAsync(context, 404, "Not Found", null);
                break;
        }
    }

    private async Task SendMessageAsync(HttpContext context, Dictionary<string, string> parameters)
    {
        if (SendDelay > TimeSpan.Zero)
        {
            await Task.Delay(SendDelay, context.RequestAborted);
        }

        if (!parameters.TryGetValue("chat_id", out var chat))
        {
            await WriteErrorAsync(context, 400, "Bad Request: chat_id is empty", null);
            return;
        }

        if (!parameters.TryGetValue("text", out var raw))
        {
            await WriteErrorAsync(context, 400, "Bad Request: message text is empty", null);
            return;
        }

        var text = raw;
        var entities = new JsonArray();
        if (string.Equals(parameters.GetValueOrDefault("parse_mode"), "HTML", StringComparison.OrdinalIgnoreCase)
            && ParseHtml(raw, out text, out entities) is { } parseError)
        {
            await WriteErrorAsync(context, 400, "Bad Request: can't parse entities: " + parseError, null);
            return;
        }

        if (text.Length == 0)
        {
            await WriteErrorAsync(context, 400, "Bad Request: message text is empty", null);
            return;
        }

        if (text.Length > MaxTextLength)
        {
            await WriteErrorAsync(context, 400, "Bad Request: message is too long", null);
            return;
        }

        if (ChatIdOf(chat) is not { } chatId)
        {
            await WriteErrorAsync(context, 400, "Bad Request: chat not found", null);
            return;
        }

        int? failure = null;
        long? migratedTo = null;
        bool blocked, unknown;
        int? retryAfter = null;
        lock (_gate)
        {
            if (_failures.Count > 0)
            {
                failure = _failures.Dequeue();
            }

            // A channel takes posts only from its creator and administrators.
            blocked = _blocked.Contains(chatId)
                || (_channels.ContainsKey(chatId) && !(_members.GetValueOrDefault((chatId, BotId)) is "creator" or "administrator"));
            unknown = !AnyChatExists && !_knownChats.Contains(chatId);
            if (_migrated.TryGetValue(chatId, out var to))
            {
                migratedTo = to;
            }

            if (failure is null && !blocked && !unknown && migratedTo is null)
            {
                retryAfter = TakeSendSlot(chatId);
            }
        }

        if (failure is 429)
        {
            Interlocked.Increment(ref _tooManyRequests);
            await WriteErrorAsync(context, 429, "Too Many Requests: retry after 1", new JsonObject { ["retry_after"] = 1 });
            return;
        }

        if (failure is { } status)
        {
            await WriteErrorAsync(context, status, status == 502 ? "Bad Gateway" : "Internal Server Error", null);
            return;
        }

        if (unknown)
        {
            await WriteErrorAsync(context, 400, "Bad Request: chat not found", null);
            return;
        }

        if (blocked)
        {
            await WriteErrorAsync(context, 403, chatId > 0 ? "Forbidden: bot was blocked by the user"
                : _channels.ContainsKey(chatId) ? "Forbidden: bot is not a member of the channel chat" : "Forbidden: bot was kicked from the group chat", null);
            return;
        }

        if (migratedTo is { } newId)
        {
            await WriteErrorAsync(context, 400, "Bad Request: group chat was upgraded to a supergroup chat",
                new JsonObject { ["migrate_to_chat_id"] = newId });
            return;
        }

        if (retryAfter is { } seconds)
        {
            Interlocked.Increment(ref _tooManyRequests);
            await WriteErrorAsync(context, 429, $"Too Many Requests: retry after {seconds}", new JsonObject { ["retry_after"] = seconds });
            return;
        }

        var message = new JsonObject
        {
            ["message_id"] = Interlocked.Increment(ref _nextMessageId),
            ["from"] = new JsonObject { ["id"] = long.Parse(Token[..Token.IndexOf(':')], CultureInfo.InvariantCulture), ["is_bot"] = true, ["first_name"] = "NewsBot Test" },
            ["date"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["chat"] = Chat(chatId),
            ["text"] = text,
        };
        if (entities.Count > 0)
        {
            message["entities"] = entities;
        }

        Messages.Enqueue(new AcceptedMessage(chatId, raw, text, DateTimeOffset.UtcNow, (int)message["message_id"]!,
            parameters.GetValueOrDefault("link_preview_options")));
        await WriteResultAsync(context, message);
    }

    /// <summary>Takes a token from each bucket that applies, or none and the whole seconds to wait (Telegram's retry_after).</summary>
    private int? TakeSendSlot(long chatId)
    {
        var now = _clock.Elapsed.TotalSeconds;
        var buckets = new List<Bucket>(3);
        if (MessagesPerSecond > 0)
        {
            _global.Configure(MessagesPerSecond, MessagesPerSecond);
            buckets.Add(_global);
        }

        if (PerChatPerSecond > 0)
        {
            buckets.Add(BucketFor(_perChat, chatId, PerChatPerSecond, PerChatPerSecond, now));
        }

        if (GroupMessagesPerMinute > 0 && chatId < 0)
        {
            buckets.Add(BucketFor(_perGroup, chatId, GroupMessagesPerMinute, GroupMessagesPerMinute / 60.0, now));
        }

        var wait = buckets.Select(b => b.SecondsUntilToken(now)).DefaultIfEmpty(0).Max();
        if (wait > 0)
        {
            return Math.Max(1, (int)Math.Ceiling(wait));
        }

        foreach (var bucket in buckets)
        {
            bucket.Take();
        }

        return null;
    }

    private static Bucket BucketFor(Dictionary<long, Bucket> buckets, long chatId, double capacity, double perSecond, double now)
    {
        if (!buckets.TryGetValue(chatId, out var bucket))
        {
            buckets[chatId] = bucket = new Bucket();
            bucket.Refill(now);
        }

        bucket.Configure(capacity, perSecond);
        return bucket;
    }

    private async Task GetUpdatesAsync(HttpContext context, Dictionary<string, string> parameters)
    {
        long? offset = parameters.TryGetValue("offset", out var o) ? long.Parse(o, CultureInfo.InvariantCulture) : null;
        var limit = parameters.TryGetValue("limit", out var l) ? Math.Clamp(int.Parse(l, CultureInfo.InvariantCulture), 1, 100) : 100;
        var timeout = parameters.TryGetValue("timeout", out var t) ? TimeSpan.FromSeconds(int.Parse(t, CultureInfo.InvariantCulture)) : TimeSpan.Zero;
        var deadline = DateTimeOffset.UtcNow + (timeout < LongPollCap ? timeout : LongPollCap);
        // Telegram serves one getUpdates per bot at a time: a new one ends the poll in progress with 409 Conflict
        // ("terminated by other getUpdates request; make sure that only one bot instance is running").
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _currentPoll?.TrySetResult();
            _currentPoll = mine;
        }

        try
        {
            await PollUpdatesAsync(context, offset, limit, deadline, mine.Task);
        }
        finally
        {
            lock (_gate)
            {
                if (_currentPoll == mine)
                {
                    _currentPoll = null;
                }
            }
        }
    }

    private async Task PollUpdatesAsync(HttpContext context, long? offset, int limit, DateTimeOffset deadline, Task terminated)
    {
        while (true)
        {
            Task arrived;
            JsonArray result;
            lock (_gate)
            {
                // Bot API getUpdates: "An update is considered confirmed as soon as getUpdates is called with an offset
                // higher than its update_id"; a negative offset keeps only the last -offset updates.
                if (offset is > 0)
                {
                    _updates.RemoveAll(u => (long)u["update_id"]! < offset);
                }
                else if (offset is < 0)
                {
                    _updates.RemoveRange(0, Math.Max(0, _updates.Count - (int)-offset));
                }

                result = new JsonArray([.. _updates.Take(limit).Select(u => u.DeepClone())]);
                arrived = _updateArrived.Task;
            }

            var left = deadline - DateTimeOffset.UtcNow;
            if (result.Count > 0 || left <= TimeSpan.Zero)
            {
                await WriteResultAsync(context, result);
                return;
            }

            await Task.WhenAny(arrived, terminated, Task.Delay(left, context.RequestAborted));
            context.RequestAborted.ThrowIfCancellationRequested();
            if (terminated.IsCompleted)
            {
                Interlocked.Increment(ref _pollConflicts);
                await WriteErrorAsync(context, 409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running", null);
                return;
            }
        }
    }

    private static async Task<Dictionary<string, string>> ReadParametersAsync(HttpRequest request)
    {
        var parameters = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        if (request.HasFormContentType)
        {
            foreach (var field in await request.ReadFormAsync())
            {
                parameters[field.Key] = field.Value.ToString();
            }
        }
        else if (request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            using var json = await JsonDocument.ParseAsync(request.Body);
            foreach (var property in json.RootElement.EnumerateObject())
            {
                parameters[property.Name] = property.Value.ValueKind == JsonValueKind.String
                    ? property.Value.GetString()!
                    : property.Value.GetRawText();
            }
        }

        return parameters;
    }

    private static Task WriteResultAsync(HttpContext context, JsonNode result)
    {
        return WriteAsync(context, 200, new JsonObject { ["ok"] = true, ["result"] = result });
    }

    private static Task WriteErrorAsync(HttpContext context, int code, string description, JsonObject? parameters)
    {
        var body = new JsonObject { ["ok"] = false, ["error_code"] = code, ["description"] = description };
        if (parameters is not null)
        {
            body["parameters"] = parameters;
        }

        return WriteAsync(context, code, body);
    }

    private static async Task WriteAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    /// <param name="Text">The text as sent (HTML).</param>
    /// <param name="Plain">The text the reader sees, after entity parsing.</param>
    /// <param name="LinkPreviewOptions">The link_preview_options parameter as sent (JSON), or null.</param>
    public sealed record AcceptedMessage(long ChatId, string Text, string Plain, DateTimeOffset At, int MessageId, string? LinkPreviewOptions);

    /// <summary>A token bucket: <c>capacity</c> tokens, refilled at <c>perSecond</c>.</summary>
    private sealed class Bucket
    {
        private double _capacity = 1;
        private double _perSecond = 1;
        private double _tokens = double.NaN;
        private double _at;

        public void Configure(double capacity, double perSecond)
        {
            _capacity = capacity;
            _perSecond = perSecond;
            if (double.IsNaN(_tokens))
            {
                _tokens = capacity;
            }
        }

        public void Refill(double now)
        {
            _at = now;
        }

        public double SecondsUntilToken(double now)
        {
            _tokens = Math.Min(_capacity, (double.IsNaN(_tokens) ? _capacity : _tokens) + (now - _at) * _perSecond);
            _at = now;
            return _tokens >= 1 ? 0 : (1 - _tokens) / _perSecond;
        }

        public void Take() => _tokens -= 1;
    }
}
