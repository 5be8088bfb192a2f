namespace NewsBot.Telegram;

/// <summary>A text message to the bot (Bot API <c>Message</c>), reduced to what the commands read.</summary>
/// <param name="ChatType">Bot API <c>Chat.type</c>: private, group, supergroup or channel.</param>
/// <param name="FromChatAdmin">The sender administers the chat (Bot API <c>getChatMember</c>: creator or administrator).</param>
public sealed record IncomingMessage(long ChatId, string ChatType, long FromUserId, string? FromUsername, string Text, bool FromChatAdmin = false);

/// <summary>A press on an inline button (Bot API <c>CallbackQuery</c>).</summary>
public sealed record IncomingCallback(long ChatId, string ChatType, long FromUserId, string Data, bool FromChatAdmin = false);

/// <summary>Bot API <c>InlineKeyboardButton</c> with <c>callback_data</c> (1-64 bytes).</summary>
public sealed record InlineButton(string Text, string CallbackData);

/// <summary>One <c>sendMessage</c>: <paramref name="Text"/> in Telegram's HTML parse mode, every dynamic value escaped.</summary>
public sealed record BotReply(string Text, IReadOnlyList<IReadOnlyList<InlineButton>>? Keyboard = null, bool DisableLinkPreview = true);

/// <summary>The bot's settings, bound from <c>NewsBot:Telegram</c>.</summary>
public sealed class TelegramBotOptions
{
    /// <summary>The bot's username without '@': <c>/cmd@NewsBot</c> is for this bot, <c>/cmd@OtherBot</c> is not.</summary>
    public string BotUsername { get; set; } = "NewsBot";

    /// <summary>Chats allowed the admin commands (<c>/stats</c>, <c>/send</c>, <c>/preview</c>).</summary>
    public List<long> AdminChatIds { get; set; } = [];

    /// <summary>How long one getUpdates call waits for news (Bot API: long polling timeout, in seconds).</summary>
    public TimeSpan PollTimeout { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>The public https URL Telegram posts updates to (it reaches <c>/telegram/webhook</c>); null = long polling.</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>Bot API setWebhook secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -; required with a webhook.</summary>
    public string? WebhookSecret { get; set; }
}
