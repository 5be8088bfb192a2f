using System.Collections.Concurrent;
using System.Globalization;

using Microsoft.Extensions.Options;

using NewsBot.Delivery;
using NewsBot.Storage;
using NewsBot.Subscribers;

using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace NewsBot.Telegram;

/// <summary>
/// Sends each message with the Bot API's <c>sendMessage</c> (parse_mode HTML) within the limits of one
/// <see cref="SendLane"/>, and turns Telegram's answers into ledger outcomes: a blocked bot or a missing chat marks
/// the subscriber's channel blocked, a group upgraded to a supergroup is re-keyed and sent to once more, a 429
/// pauses the whole lane and the message is tried again (at most <see cref="MaxTries"/> times). A configured
/// channel may be addressed as <c>@name</c>: its numeric id is looked up once (getChat), so the lane applies the
/// group limit to it like to any chat with a negative id. The Bot API FAQ states that limit for groups ("not be
/// able to send more than 20 messages per minute to the same group"); python-telegram-bot's wiki ("Avoiding flood
/// limits") reports @BotSupport saying it applies to channels too.
/// </summary>
public sealed class TelegramChannel : IChannel, IDisposable
{
    public const int MaxTries = 3;

    private readonly HttpClient _http;
    private readonly TelegramBotClient _client;
    private readonly LinkPreviewOptions _linkPreview;
    private readonly SubscriberStore _subscribers;
    private readonly ILogger<TelegramChannel> _logger;
    private readonly ConcurrentDictionary<string, long> _usernameIds = new(StringComparer.Ordinal);

    public TelegramChannel(IOptions<TelegramOptions> options, SubscriberStore subscribers, Db db, TimeProvider time, ILogger<TelegramChannel> logger)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            throw new InvalidOperationException($"{TelegramOptions.Section}:BotToken is not set; the Telegram channel needs it.");
        }

        _http = new HttpClient { Timeout = settings.RequestTimeout };
        // Telegram.Bot waits out a 429 by itself by default; RetryCount 0 hands every 429 to the lane, which pauses all chats.
        _client = new TelegramBotClient(new TelegramBotClientOptions(settings.BotToken!, settings.ApiBaseUrl) { RetryCount = 0 }, _http);
        _linkPreview = new LinkPreviewOptions { IsDisabled = !settings.LinkPreviews };
        // The lane is the bot's, named by its numeric id (the token's part before the colon, https://core.telegram.org/bots/api#authorizing-your-bot):
        // every process with this token shares it, and the secret half never reaches the database.
        Lane = new SendLane(db, time, "telegram:" + settings.BotToken!.Split(':')[0],
            settings.GlobalMessagesPerSecond, settings.PerChatInterval, settings.GroupMessagesPerMinute);
        _subscribers = subscribers;
        _logger = logger;
    }

    public string Name => Channels.Telegram;

    public SendLane Lane { get; }

    /// <summary>The lane's global pace (<c>NewsBot:Telegram:GlobalMessagesPerSecond</c>), which the admin's ETA uses.</summary>
    public double MessagesPerSecond => Lane.MessagesPerSecond;

    public async Task<ChannelResult> SendAsync(OutgoingMessage message, CancellationToken ct)
    {
        if ((!long.TryParse(message.Address, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var chatId) || chatId == 0)
            && !SubscriberStore.TelegramUsername().IsMatch(message.Address))
        {
            return new ChannelResult(ChannelOutcome.FailedPermanent, $"'{message.Address}' is not a Telegram chat id or @username");
        }

        var address = message.Address;
        var migrated = false;
        var lastError = "";
        for (var tries = 0; tries < MaxTries;)
        {
            tries++;
            try
            {
                if (chatId == 0)
                {
                    chatId = _usernameIds.TryGetValue(address, out var known) ? known : await ResolveUsernameAsync(address, ct);
                }

                await Lane.WaitAsync(chatId, ct);
                await _client.SendMessage(chatId, message.Body, ParseMode.Html, linkPreviewOptions: _linkPreview, cancellationToken: ct);
                return ChannelResult.Sent;
            }
            catch (ApiRequestException e) when (e.ErrorCode == 429)
            {
                // Bot API: "parameters.retry_after: the number of seconds left to wait before the request can be repeated".
                var retryAfter = TimeSpan.FromSeconds(Math.Max(1, e.Parameters?.RetryAfter ?? 1));
                await Lane.PauseAsync(retryAfter, CancellationToken.None);
                lastError = e.Message;
                _logger.LogWarning("Telegram said 429 for chat {ChatId}; every send pauses for {RetryAfter}", chatId, retryAfter);
            }
            catch (ApiRequestException e) when (e.Parameters?.MigrateToChatId is long newId && !migrated)
            {
                // Bot API ResponseParameters.migrate_to_chat_id: "The group has been migrated to a supergroup with the
                // specified identifier". The old id never works again.
                migrated = true;
                tries--;
                var newAddress = newId.ToString(CultureInfo.InvariantCulture);
                try
                {
                    await _subscribers.RekeyAddressAsync(Channels.Telegram, address, newAddress, CancellationToken.None);
                }
                catch (SubscriberException rekey)
                {
                    // A test send or an address no subscriber has: the group still gets the message at its new id.
                    _logger.LogWarning("Telegram chat {ChatId} moved to {NewId}; not re-keyed: {Reason}", chatId, newId, rekey.Message);
                }

                chatId = newId;
                address = newAddress;
            }
            catch (ApiRequestException e) when (e.ErrorCode == 403 || (e.ErrorCode == 400 && e.Message.Contains("chat not found", StringComparison.OrdinalIgnoreCase)))
            {
                await MarkBlockedAsync(address, e.Message);
                return new ChannelResult(ChannelOutcome.FailedPermanent, e.Message);
            }
            catch (ApiRequestException e) when (e.ErrorCode == 400)
            {
                // "can't parse entities", "message is too long", "message text is empty": sending again changes nothing.
                return new ChannelResult(ChannelOutcome.FailedPermanent, e.Message);
            }
            catch (ApiRequestException e)
            {
                return new ChannelResult(ChannelOutcome.FailedTransient, $"{e.ErrorCode}: {e.Message}");
            }
            catch (RequestException e)
            {
                // Network failures, timeouts and answers that are not Bot API JSON (a proxy's 502 page).
                return new ChannelResult(ChannelOutcome.FailedTransient, Describe(e));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                return new ChannelResult(ChannelOutcome.FailedTransient, Describe(e));
            }
        }

        return new ChannelResult(ChannelOutcome.FailedTransient, $"{MaxTries} tries, each refused with 429: {lastError}");
    }

    /// <summary>
    /// Whether the bot can post to a configured channel or group, asked at start (Bot API getChat, then getChatMember
    /// for the bot itself): null when it can, else what is wrong, for the log. The user makes the bot an admin; this
    /// only says so early instead of at the first post.
    /// </summary>
    public async Task<string?> CheckPostRightsAsync(string address, CancellationToken ct)
    {
        try
        {
            var isId = long.TryParse(address, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var id);
            var chat = await _client.GetChat(isId ? new ChatId(id) : new ChatId(address), ct);
            if (!isId)
            {
                _usernameIds[address] = chat.Id;
            }

            var member = await _client.GetChatMember(chat.Id, _client.BotId, ct);
            return (chat.Type, member) switch
            {
                (_, ChatMemberOwner) => null,
                // Bot API ChatMemberAdministrator.can_post_messages: "True, if the administrator can post messages in the channel".
                (ChatType.Channel, ChatMemberAdministrator { CanPostMessages: true }) => null,
                (ChatType.Channel, _) => $"the bot is {member.Status.ToString().ToLowerInvariant()} in channel {address}, not an administrator allowed to post messages: add it as an administrator with 'Post messages'",
                (_, ChatMemberAdministrator or ChatMemberMember) => null,
                (_, ChatMemberRestricted { CanSendMessages: true }) => null,
                _ => $"the bot is {member.Status.ToString().ToLowerInvariant()} in {chat.Type.ToString().ToLowerInvariant()} {address} and cannot send messages there: add it to the group",
            };
        }
        catch (ApiRequestException e)
        {
            return $"Telegram says '{e.Message}' about {address}: is the chat right, and is the bot in it?";
        }
        catch (Exception e) when (e is RequestException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return $"Telegram could not be asked about {address}: {Describe(e)}";
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Bot API getChat: a public channel's or supergroup's id by its <c>@username</c>; remembered for the process.</summary>
    private async Task<long> ResolveUsernameAsync(string username, CancellationToken ct)
    {
        var chat = await _client.GetChat(username, ct);
        _usernameIds[username] = chat.Id;
        return chat.Id;
    }

    private async Task MarkBlockedAsync(string address, string reason)
    {
        try
        {
            await _subscribers.SetChannelStatusAsync(Channels.Telegram, address, ChannelStatus.Blocked, CancellationToken.None);
        }
        catch (SubscriberException e)
        {
            _logger.LogWarning("Telegram chat {Address} refused the bot ({Reason}) but is no subscriber's: {Error}", address, reason, e.Message);
        }
    }

    private static string Describe(Exception e) =>
        e.InnerException is { } inner ? $"{e.Message}: {inner.GetType().Name}: {inner.Message}" : e.Message;
}
