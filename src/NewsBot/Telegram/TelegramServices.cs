using Microsoft.Extensions.Options;

using NewsBot.Delivery;

namespace NewsBot.Telegram;

public static class TelegramServices
{
    /// <summary>
    /// The <c>NewsBot:Telegram</c> options, and the Telegram channel when <c>NewsBot:Telegram:BotToken</c> is set.
    /// Call after <c>AddDelivery</c>: the last channel registered under a name wins, so this one replaces the outbox.
    /// Without a token the start log says once that Telegram is off.
    /// </summary>
    public static IHostApplicationBuilder AddTelegram(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelegramOptions>().BindConfiguration(TelegramOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TelegramOptions>, TelegramOptionsValidator>();
        var token = builder.Configuration[TelegramOptions.Section + ":BotToken"];
        if (string.IsNullOrWhiteSpace(token))
        {
            builder.Services.AddSingleton<IHostedService>(sp => new StartupNotice(
                sp.GetRequiredService<ILogger<StartupNotice>>(),
                "Telegram is off: set NewsBot:Telegram:BotToken (env NewsBot__Telegram__BotToken) to turn it on"));
            return builder;
        }

        // One instance for the process: the Bot API's limits are per bot, whatever the number of dispatch jobs.
        builder.Services.AddSingleton<TelegramChannel>();
        builder.Services.AddSingleton<IChannel>(sp => sp.GetRequiredService<TelegramChannel>());
        return builder;
    }

    /// <summary>
    /// The bot that answers commands, by long polling, when a token is set. Only the service runs it: a CLI verb
    /// must not take updates meant for the service.
    /// </summary>
    public static IHostApplicationBuilder AddTelegramBot(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelegramBotOptions>().BindConfiguration(TelegramOptions.Section);
        builder.Services.AddTransient<BotCommands>();
        if (!string.IsNullOrWhiteSpace(builder.Configuration[TelegramOptions.Section + ":BotToken"]))
        {
            builder.Services.AddHostedService<TelegramBot>();
        }

        return builder;
    }
}
