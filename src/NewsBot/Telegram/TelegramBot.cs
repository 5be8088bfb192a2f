using Microsoft.Extensions.Options;

using NewsBot.Storage;
using NewsBot.Subscribers;

using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;
using Telegram.Bot.Types.ReplyMarkups;

namespace NewsBot.Telegram;

/// <summary>
/// The bot's side of the conversation, by long polling (no public URL needed) or, with
/// <c>NewsBot:Telegram:WebhookUrl</c>, by webhook: read updates, answer commands through <see cref="BotCommands"/>, and keep chat statuses current from
/// <c>my_chat_member</c> so a chat that blocked the bot is marked before a send fails. Replies share the Telegram
/// channel's lane, so they count against the same per-bot and per-chat limits as deliveries.
/// </summary>
public sealed class TelegramBot(
    IOptions<TelegramOptions> options,
    IOptions<TelegramBotOptions> botOptions,
    TelegramChannel channel,
    IServiceProvider services,
    SubscriberStore subscribers,
    InstanceRoles roles,
    ILogger<TelegramBot> logger) : BackgroundService
{
    /// <summary>The role of the one instance that long-polls (see <see cref="InstanceRoles"/>).</summary>
    public const string PollerRole = "telegram-poller";

    /// <summary>Where the service takes webhook updates; <c>WebhookUrl</c> is its public address behind the proxy.</summary>
    public const string WebhookPath = "/telegram/webhook";

    /// <summary>The command menu (Bot API setMyCommands: 1-32 lower-case characters, descriptions 1-256).</summary>
    public static IReadOnlyList<BotCommand> Menu { get; } =
    [
        new() { Command = "start", Description = "Subscribe and choose topics" },
        new() { Command = "latest", Description = "The newest posts: /latest 10" },
        new() { Command = "topic", Description = "Posts on a topic or words: /topic sanctions" },
        new() { Command = "topics", Description = "All topics, with subscribe buttons" },
        new() { Command = "search", Description = "Search all posts: /search nuclear waste" },
        new() { Command = "subscribe", Description = "Follow a topic: /subscribe russia" },
        new() { Command = "unsubscribe", Description = "Stop following a topic" },
        new() { Command = "digest", Description = "instant, daily, weekly or off" },
        new() { Command = "settings", Description = "Your topics and cadence" },
        new() { Command = "stop", Description = "Stop all messages" },
        new() { Command = "help", Description = "What this bot can do" },
    ];

    private static readonly UpdateType[] Wanted = [UpdateType.Message, UpdateType.CallbackQuery, UpdateType.MyChatMember];

    private readonly HttpClient http = new() { Timeout = botOptions.Value.PollTimeout + options.Value.RequestTimeout };

    private TelegramBotClient? client;

    private TelegramBotClient Client => client ??= new TelegramBotClient(
        new TelegramBotClientOptions(options.Value.BotToken!, options.Value.ApiBaseUrl) { RetryCount = 0 }, http);

    public override void Dispose()
    {
        http.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (botOptions.Value.WebhookUrl is { } webhook)
        {
            await RegisterWebhookAsync(webhook, stoppingToken);
            return;
        }

        await PollAsync(stoppingToken);
    }

    /// <summary>Bot API setWebhook: Telegram sends each update to <paramref name="url"/> with the secret in a header.</summary>
    private async Task RegisterWebhookAsync(string url, CancellationToken ct)
    {
        for (var failures = 1; !ct.IsCancellationRequested; failures++)
        {
            try
            {
                await Client.SetWebhook(url, allowedUpdates: Wanted, secretToken: botOptions.Value.WebhookSecret, cancellationToken: ct);
                await Client.SetMyCommands(Menu, cancellationToken: ct);
                logger.LogInformation("Telegram bot takes updates by webhook at {Url}", url);
                return;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                var wait = RetryDelay(failures);
                logger.LogWarning("Telegram setWebhook failed ({Failures} in a row), retrying in {Wait}: {Error}", failures, wait, e.Message);
                await Task.Delay(wait, ct);
            }
        }
    }

    /// <summary>
    /// Long polling by one instance of the deployment at a time: Bot API getUpdates answers a second poller with
    /// 409 Conflict ("terminated by other getUpdates request"), so the instances take turns through a lease
    /// (<see cref="PollerRole"/>) that the poller renews before each round and gives up when it stops; the others
    /// stand by and take over within a round after it stops, or once its lease runs out after it died.
    /// </summary>
    private async Task PollAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var poll = botOptions.Value.PollTimeout;
        // Outlasts a round (the long poll, the request, the replies) with room to spare, so a live poller never loses it.
        var lease = 3 * (poll + settings.RequestTimeout);
        var client = Client;
        var offset = 0;
        var failures = 0;
        // Null until the first round: each change between polling and standing by is logged once.
        bool? polling = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (!await roles.TryHoldAsync(PollerRole, lease, stoppingToken))
                    {
                        if (polling != false)
                        {
                            logger.LogInformation("Telegram bot: instance {Holder} polls for updates; this one stands by",
                                await roles.FindHolderAsync(PollerRole, stoppingToken));
                            polling = false;
                        }

                        await Task.Delay(poll, stoppingToken);
                        continue;
                    }

                    if (polling != true)
                    {
                        // A webhook left set makes getUpdates fail with 409 (Bot API: getUpdates).
                        await client.DeleteWebhook(dropPendingUpdates: false, stoppingToken);
                        await client.SetMyCommands(Menu, cancellationToken: stoppingToken);
                        polling = true;
                        logger.LogInformation("Telegram bot is polling {BaseUrl} for updates as {Instance}", settings.ApiBaseUrl, roles.InstanceName);
                    }

                    var updates = await client.GetUpdates(offset, 100, (int)poll.TotalSeconds, Wanted, stoppingToken);
                    failures = 0;
                    foreach (var update in updates)
                    {
                        // Bot API: an update is confirmed by asking for a higher offset, so each is handled once.
                        offset = update.Id + 1;
                        await HandleUpdateAsync(update, stoppingToken);
                    }
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    failures++;
                    var wait = RetryDelay(failures);
                    logger.LogWarning("Telegram polling failed ({Failures} in a row), retrying in {Wait}: {Error}", failures, wait, e.Message);
                    await Task.Delay(wait, stoppingToken);
                }
            }
        }
        finally
        {
            if (polling == true)
            {
                // The updates handled in the last round are confirmed only by a getUpdates with a higher offset; ask
                // for none (timeout 0) so the next poller does not handle them again, then hand the role over.
                await ConfirmAndReleaseAsync(client, offset);
            }
        }
    }

    private async Task ConfirmAndReleaseAsync(TelegramBotClient client, int offset)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            if (offset > 0)
            {
                await client.GetUpdates(offset, 1, 0, Wanted, timeout.Token);
            }

            await roles.ReleaseAsync(PollerRole, timeout.Token);
        }
        catch (Exception e)
        {
            // The lease runs out by itself; another instance then takes over, at worst handling the last round again.
            logger.LogWarning("Telegram bot: handing over polling failed: {Error}", e.Message);
        }
    }

    /// <summary>One update, from a poll or the webhook; errors are logged, never thrown, so one bad update stops nothing.</summary>
    public async Task HandleUpdateAsync(Update update, CancellationToken ct)
    {
        var client = Client;
        try
        {
            var commands = services.GetRequiredService<BotCommands>();
            switch (update)
            {
                case { Message: { Text: { } text, Chat: var chat, From: { } from } incoming }:
                    // Bot API Message.sender_chat: "the supergroup itself for messages sent by its anonymous
                    // administrators"; only such a message or an admin's own may change the group's subscription.
                    var fromAdmin = incoming.SenderChat?.Id == chat.Id
                        || (text.StartsWith('/') && await IsChatAdminAsync(client, chat, from.Id, ct));
                    var message = new IncomingMessage(chat.Id, ChatTypeName(chat.Type), from.Id, from.Username, text, fromAdmin);
                    foreach (var reply in await commands.HandleAsync(message, ct))
                    {
                        await ReplyAsync(client, chat.Id, reply, ct);
                    }

                    break;
                case { CallbackQuery: { Data: { } data, Message: { Chat: var chat }, From: var from } query }:
                    var answer = await commands.HandleCallbackAsync(new IncomingCallback(chat.Id, ChatTypeName(chat.Type), from.Id, data, await IsChatAdminAsync(client, chat, from.Id, ct)), ct);
                    await client.AnswerCallbackQuery(query.Id, cancellationToken: ct);
                    await ReplyAsync(client, chat.Id, answer, ct);
                    break;
                case { MyChatMember: { Chat: var chat, NewChatMember.Status: var status } }:
                    await RecordMembershipAsync(chat.Id, status, ct);
                    break;
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // One bad update must not stop the bot; BotCommands answers expected errors itself.
            logger.LogError(e, "Telegram update {UpdateId} could not be handled", update.Id);
        }
    }

    private async Task ReplyAsync(TelegramBotClient client, long chatId, BotReply reply, CancellationToken ct)
    {
        await channel.Lane.WaitAsync(chatId, ct);
        var keyboard = reply.Keyboard is null
            ? null
            : new InlineKeyboardMarkup(reply.Keyboard.Select(row => row.Select(b => InlineKeyboardButton.WithCallbackData(b.Text, b.CallbackData))));
        await client.SendMessage(chatId, reply.Text, ParseMode.Html, replyMarkup: keyboard,
            linkPreviewOptions: new LinkPreviewOptions { IsDisabled = reply.DisableLinkPreview }, cancellationToken: ct);
    }

    /// <summary>Bot API my_chat_member: the bot was blocked, kicked or let back in; sends follow the status.</summary>
    private async Task RecordMembershipAsync(long chatId, ChatMemberStatus status, CancellationToken ct)
    {
        var address = chatId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (await subscribers.FindByAddressAsync(Channels.Telegram, address, ct) is null)
        {
            return;
        }

        var next = status is ChatMemberStatus.Kicked or ChatMemberStatus.Left ? ChannelStatus.Blocked : ChannelStatus.Active;
        await subscribers.SetChannelStatusAsync(Channels.Telegram, address, next, ct);
        logger.LogInformation("Telegram chat {ChatId} is now {Status} (my_chat_member: {MemberStatus})", chatId, next, status);
    }

    /// <summary>
    /// In groups only chat admins change the group's subscription (Bot API getChatMember: status creator or
    /// administrator). When Telegram does not answer, the sender counts as no admin: read-only commands still work.
    /// </summary>
    private async Task<bool> IsChatAdminAsync(TelegramBotClient client, Chat chat, long userId, CancellationToken ct)
    {
        if (chat.Type is not (ChatType.Group or ChatType.Supergroup))
        {
            return false;
        }

        try
        {
            var member = await client.GetChatMember(chat.Id, userId, ct);
            return member.Status is ChatMemberStatus.Administrator or ChatMemberStatus.Creator;
        }
        catch (Exception e) when (e is ApiRequestException or RequestException or HttpRequestException && !ct.IsCancellationRequested)
        {
            logger.LogWarning("Telegram getChatMember for user {UserId} in chat {ChatId} failed; treated as no admin: {Error}", userId, chat.Id, e.Message);
            return false;
        }
    }

    /// <summary>2, 4, 8 ... seconds after consecutive failures to reach the Bot API, at most a minute.</summary>
    private static TimeSpan RetryDelay(int failures) => TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, Math.Min(failures, 6))));

    private static string ChatTypeName(ChatType type) => type.ToString().ToLowerInvariant();
}
