using System.Text.RegularExpressions;

using Microsoft.Extensions.Options;

namespace NewsBot.Telegram;

/// <summary>The <c>NewsBot:Telegram</c> section. With no <see cref="BotToken"/> Telegram is off and the outbox stands in.</summary>
public sealed class TelegramOptions
{
    public const string Section = "NewsBot:Telegram";

    /// <summary>The token @BotFather gives, <c>123456:ABC-DEF...</c>; null turns Telegram off.</summary>
    public string? BotToken { get; set; }

    /// <summary>The Bot API server; a local Bot API server or, in tests, the fake.</summary>
    public string ApiBaseUrl { get; set; } = "https://api.telegram.org";

    /// <summary>
    /// Messages per second to all chats together. https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this:
    /// "no more than 30 messages per second"; 25 leaves headroom. Above 30 only with paid broadcasts (up to 1000/s).
    /// The ETA an admin is shown for a send uses this rate too (<see cref="TelegramChannel.MessagesPerSecond"/>).
    /// </summary>
    public int GlobalMessagesPerSecond { get; set; } = 25;

    /// <summary>Bot API FAQ: above 30/s the bot must have paid broadcasts enabled (allow_paid_broadcast, 0.1 Star per message).</summary>
    public bool AllowPaidBroadcast { get; set; }

    /// <summary>Bot API FAQ: "avoid sending more than one message per second" to one chat.</summary>
    public TimeSpan PerChatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Bot API FAQ: "bots are not be able to send more than 20 messages per minute to the same group".</summary>
    public int GroupMessagesPerMinute { get; set; } = 20;

    /// <summary>One whole <c>sendMessage</c> request; a request that takes longer fails transiently.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether Telegram shows a preview of the first link (<c>link_preview_options.is_disabled</c> otherwise).</summary>
    public bool LinkPreviews { get; set; }

    /// <summary>Telegram channels and groups that get each new post as a broadcast (checked by <see cref="BroadcastChannelsValidator"/>).</summary>
    public List<BroadcastChannelOptions> Channels { get; set; } = [];

    public bool Enabled => !string.IsNullOrWhiteSpace(BotToken);
}

/// <summary>Every failure names its key.</summary>
public sealed partial class TelegramOptionsValidator : IValidateOptions<TelegramOptions>
{
    /// <summary>The shape @BotFather hands out: the bot's numeric id, a colon, then letters, digits, <c>_</c> and <c>-</c>.</summary>
    [GeneratedRegex(@"^[0-9]+:[A-Za-z0-9_-]+$")]
    private static partial Regex TokenShape();

    public ValidateOptionsResult Validate(string? name, TelegramOptions options)
    {
        var section = TelegramOptions.Section;
        var errors = new List<string>();
        if (options.BotToken is { } token && !string.IsNullOrWhiteSpace(token) && !TokenShape().IsMatch(token))
        {
            errors.Add($"{section}:BotToken is not a bot token such as '123456:ABC-DEF1234ghIkl' (digits, a colon, then letters, digits, '_' or '-')");
        }

        if (!Uri.TryCreate(options.ApiBaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            errors.Add($"{section}:ApiBaseUrl '{options.ApiBaseUrl}' is not an http(s) URL such as 'https://api.telegram.org'");
        }

        if (options.GlobalMessagesPerSecond is < 1 or > 1000)
        {
            errors.Add($"{section}:GlobalMessagesPerSecond {options.GlobalMessagesPerSecond} must be between 1 and 1000");
        }
        else if (options.GlobalMessagesPerSecond > 30 && !options.AllowPaidBroadcast)
        {
            errors.Add($"{section}:GlobalMessagesPerSecond {options.GlobalMessagesPerSecond} is above Telegram's free 30 per second; set {section}:AllowPaidBroadcast to true (paid broadcasts) or lower it");
        }

        if (options.PerChatInterval < TimeSpan.Zero || options.PerChatInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{section}:PerChatInterval {options.PerChatInterval} must be between 00:00:00 and 00:01:00");
        }

        if (options.GroupMessagesPerMinute is < 1 or > 1000)
        {
            errors.Add($"{section}:GroupMessagesPerMinute {options.GroupMessagesPerMinute} must be between 1 and 1000");
        }

        if (options.RequestTimeout <= TimeSpan.Zero || options.RequestTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add($"{section}:RequestTimeout {options.RequestTimeout} must be above 00:00:00 and at most 00:05:00");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
