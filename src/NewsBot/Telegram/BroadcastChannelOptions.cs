using System.Globalization;

using Microsoft.Extensions.Options;

using NewsBot.Subscribers;
using NewsBot.Topics;

namespace NewsBot.Telegram;

/// <summary>One entry of <c>NewsBot:Telegram:Channels</c>: a channel or group that gets each new post of its topics.</summary>
public sealed class BroadcastChannelOptions
{
    /// <summary>
    /// Bot API sendMessage chat_id: "Unique identifier for the target chat or username of the target channel (in
    /// the format @channelusername)": <c>@name</c> or the numeric id, negative for channels and groups (<c>-100...</c>).
    /// </summary>
    public string Chat { get; set; } = "";

    /// <summary>Topic names (<c>NewsBot:Topics</c>); empty for every topic.</summary>
    public List<string> Topics { get; set; } = [];
}

/// <summary>
/// Checks <c>NewsBot:Telegram:Channels</c> against the configured topics, one line per wrong key. Separate from
/// <see cref="TelegramOptionsValidator"/> because it needs the topics.
/// </summary>
public sealed class BroadcastChannelsValidator(IOptions<TopicsOptions> topicsOptions) : IValidateOptions<TelegramOptions>
{
    public ValidateOptionsResult Validate(string? name, TelegramOptions options)
    {
        IReadOnlyList<string>? known;
        try
        {
            known = [.. topicsOptions.Value.Effective.Select(t => t.Name)];
        }
        catch (OptionsValidationException)
        {
            // NewsBot:Topics is wrong itself and its validator says how; the topic names here cannot be checked.
            known = null;
        }

        var errors = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < options.Channels.Count; i++)
        {
            var key = $"{TelegramOptions.Section}:Channels:{i}";
            var channel = options.Channels[i];
            if (channel is null)
            {
                errors.Add($"{key} is empty: give Chat ('@name' or a chat id such as -1001234567890) and optionally Topics");
                continue;
            }

            if (CheckChat(channel.Chat) is { } problem)
            {
                errors.Add($"{key}:Chat {problem}");
            }
            else if (!seen.TryAdd(SubscriberStore.NormalizeAddress(Channels.Telegram, channel.Chat), i))
            {
                errors.Add($"{key}:Chat '{channel.Chat}' is already {TelegramOptions.Section}:Channels:{seen[SubscriberStore.NormalizeAddress(Channels.Telegram, channel.Chat)]}");
            }

            var topics = channel.Topics ?? [];
            for (var t = 0; t < topics.Count; t++)
            {
                if (known is not null && !known.Contains(topics[t]?.Trim().ToLowerInvariant() ?? ""))
                {
                    errors.Add($"{key}:Topics:{t} '{topics[t]}' is not a topic; topics: {string.Join(", ", known)}");
                }
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static string? CheckChat(string? chat)
    {
        var trimmed = chat?.Trim() ?? "";
        if (long.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var id))
        {
            // Bot API Chat.id: positive for users; a broadcast goes to a channel or a group, whose ids are negative.
            return id < 0 ? null : $"'{chat}' is not a channel or group id: those are negative (-1001234567890); a person subscribes with /start";
        }

        return SubscriberStore.TelegramUsername().IsMatch(trimmed)
            ? null
            : $"'{chat}' is neither '@name' (5-32 letters, digits and '_', starting with a letter) nor a chat id such as -1001234567890";
    }
}
