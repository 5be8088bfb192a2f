using System.Text.Json;

using Microsoft.Extensions.Options;

using NewsBot.Delivery;

using Telegram.Bot;
using Telegram.Bot.Types;

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
        builder.Services.AddSingleton<IValidateOptions<TelegramOptions>, BroadcastChannelsValidator>();
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
    /// The bot that answers commands, by long polling, when a token is set, and the configured broadcast channels.
    /// Only the service runs them: a CLI verb must not take updates meant for the service.
    /// </summary>
    public static IHostApplicationBuilder AddTelegramBot(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelegramBotOptions>().BindConfiguration(TelegramOptions.Section)
            .Validate(o => o.PollTimeout >= TimeSpan.FromSeconds(1) && o.PollTimeout <= TimeSpan.FromSeconds(50),
                "NewsBot:Telegram:PollTimeout must be between 00:00:01 and 00:00:50")
            .Validate(o => o.WebhookUrl is null || (Uri.TryCreate(o.WebhookUrl, UriKind.Absolute, out var url) && url.Scheme == "https"),
                "NewsBot:Telegram:WebhookUrl must be an absolute https URL (Bot API setWebhook)")
            .Validate(o => o.WebhookUrl is null || (o.WebhookSecret is { Length: >= 1 and <= 256 } secret && secret.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')),
                "NewsBot:Telegram:WebhookSecret is required with a webhook: 1-256 characters A-Z, a-z, 0-9, _ and -")
            .ValidateOnStart();
        builder.Services.AddTransient<BotCommands>();
        if (!string.IsNullOrWhiteSpace(builder.Configuration[TelegramOptions.Section + ":BotToken"]))
        {
            builder.Services.AddSingleton<TelegramBot>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<TelegramBot>());
            builder.Services.AddSingleton<BroadcastChannels>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<BroadcastChannels>());
        }

        return builder;
    }

    /// <summary>
    /// <c>POST /telegram/webhook</c> in webhook mode. Bot API setWebhook: Telegram sends the secret in
    /// <c>X-Telegram-Bot-Api-Secret-Token</c>; a request without it is not from Telegram and gets 401.
    /// </summary>
    public static WebApplication MapTelegramWebhook(this WebApplication app)
    {
        var bot = app.Services.GetService<TelegramBot>();
        var webhook = app.Services.GetRequiredService<IOptions<TelegramBotOptions>>().Value;
        if (bot is null || webhook.WebhookUrl is null)
        {
            return app;
        }

        app.MapPost(TelegramBot.WebhookPath, async (HttpRequest request, CancellationToken ct) =>
        {
            var secret = request.Headers["X-Telegram-Bot-Api-Secret-Token"].ToString();
            if (!Admin.AdminApi.IsToken(secret, webhook.WebhookSecret!))
            {
                return Results.Unauthorized();
            }

            var update = await JsonSerializer.DeserializeAsync<Update>(request.Body, JsonBotAPI.Options, ct);
            if (update is null)
            {
                return Results.BadRequest();
            }

            await bot.HandleUpdateAsync(update, ct);
            return Results.Ok();
        });
        return app;
    }
}
