namespace NewsBot.Subscribers;

public static class SubscriberServices
{
    public static IHostApplicationBuilder AddSubscribers(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SubscriberStore>();
        // The CLI signs the links of the mails it sends too: one secret per data directory.
        builder.Services.AddSingleton<SubscriptionTokens>();
        return builder;
    }
}
