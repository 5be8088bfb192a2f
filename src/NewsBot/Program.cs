using NewsBot;
using NewsBot.Admin;
using NewsBot.Cli;
using NewsBot.Delivery;
using NewsBot.Email;
using NewsBot.Feeds;
using NewsBot.Jobs;
using NewsBot.Posts;
using NewsBot.Storage;
using NewsBot.Subscribers;
using NewsBot.Telegram;
using NewsBot.Templates;
using NewsBot.Topics;

// One binary: `NewsBot <verb> ...` runs a CLI verb against the same services; anything else runs the service.
if (CliApp.Handles(args))
{
    return await CliApp.RunAsync(args, Console.Out, Console.Error);
}

return await Program.BuildService(args).RunServiceAsync();

public partial class Program
{
    /// <summary>The service: every feature's registrations, then its endpoints. Tests start it in process.</summary>
    public static WebApplication BuildService(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.AddForwardedHeaders();
        builder.AddStorage();
        builder.AddTopics();
        builder.AddPosts();
        builder.AddSubscribers();
        builder.AddFeeds();
        builder.AddJobs();
        builder.AddFeedSchedule();
        builder.AddTemplates();
        builder.AddDelivery();
        builder.AddDeliverySchedule();
        builder.AddAdmin();
        builder.AddTelegram();
        builder.AddTelegramBot();
        builder.AddEmail();
        builder.AddBounces();
        builder.AddBounceSchedule();
        builder.AddSubscriptionPages();

        var app = builder.Build();
        // First: everything after it (rate limit, dashboard, cookies) sees the client, not the proxy.
        app.UseForwardedHeaders();
        app.MapJobs();
        app.MapHealth();
        app.MapAdminApi();
        app.MapTelegramWebhook();
        app.MapSubscriptionPages();
        return app;
    }
}
