namespace NewsBot.Telegram;

public static class TelegramServices
{
    /// <summary>Telegram stays off until <c>NewsBot:Telegram:BotToken</c> is set; the start log says so once.</summary>
    public static IHostApplicationBuilder AddTelegram(this IHostApplicationBuilder builder)
    {
        var token = builder.Configuration["NewsBot:Telegram:BotToken"];
        builder.Services.AddSingleton<IHostedService>(sp => new StartupNotice(
            sp.GetRequiredService<ILogger<StartupNotice>>(),
            string.IsNullOrWhiteSpace(token)
                ? "Telegram is off: set NewsBot:Telegram:BotToken (env NewsBot__Telegram__BotToken) to turn it on"
                : "Telegram bot token is set; the Telegram channel arrives with the Telegram issue and sends nothing yet"));
        return builder;
    }
}
