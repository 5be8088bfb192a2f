using NewsBot;
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

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
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
builder.AddTelegram();
builder.AddEmail();

var app = builder.Build();
app.MapJobs();
app.MapHealth();

return await app.RunServiceAsync();
