namespace NewsBot.Subscribers;

public static class SubscriberServices
{
    public static IHostApplicationBuilder AddSubscribers(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SubscriberStore>();
        return builder;
    }
}
