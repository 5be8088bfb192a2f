using System.CommandLine;

using NewsBot.Admin;
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

namespace NewsBot.Cli;

/// <summary>
/// The CLI verbs of the same binary (<c>NewsBot feeds poll</c>, <c>NewsBot posts latest</c>, ...). They run the
/// same services as the web host, from the same configuration, without the web server; only `send` starts a
/// job server, in process, to dispatch what it planned.
/// </summary>
public static class CliApp
{
    private static readonly string[] Verbs = ["feeds", "posts", "subscribers", "bounces", "send", "sends", "preview", "--help", "-h", "-?", "--version"];

    public static bool Handles(string[] args) => args.Length > 0 && Verbs.Contains(args[0]);

    /// <param name="configuration">Settings laid over appsettings.json and the environment (tests use it).</param>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, IDictionary<string, string?>? configuration = null) =>
        RunAsync(args, output, error, () => BuildServices(configuration));

    /// <param name="services">Built on first use by a verb, so <c>--help</c> and usage errors need no configuration.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, Func<IServiceProvider> services)
    {
        var root = new RootCommand("NewsBot: picks up blog posts and delivers them on Telegram and by email. Without a verb it runs the service.");
        root.Subcommands.Add(FeedCommands.Create(services, output, error));
        root.Subcommands.Add(PostCommands.Create(services, output, error));
        root.Subcommands.Add(SubscriberCommands.Create(services, output, error));
        root.Subcommands.Add(BounceCommands.Create(services, output, error));
        foreach (var command in SendCommands.Create(services, output, error))
        {
            root.Subcommands.Add(command);
        }
        var parsed = root.Parse(args);
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
    }

    /// <summary>The services every verb uses, from appsettings.json, the environment and <paramref name="configuration"/>.</summary>
    public static IServiceProvider BuildServices(IDictionary<string, string?>? configuration)
    {
        // A verb runs for seconds: watching appsettings.json for changes would only cost an inotify instance each.
        var hostConfiguration = new ConfigurationManager();
        hostConfiguration.AddInMemoryCollection(new Dictionary<string, string?> { ["hostBuilder:reloadConfigOnChange"] = "false" });
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
            Configuration = hostConfiguration,
        });
        // The CLI prints its own progress; the log (stderr) carries only warnings and errors, whatever appsettings.json
        // asks of the service. Hangfire's own shutdown notice is noise for a command that stops its server on purpose.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
            ["Logging:LogLevel:Hangfire"] = "Error",
        });
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.AddStorage();
        builder.AddTopics();
        builder.AddPosts();
        builder.AddSubscribers();
        builder.AddFeeds();
        builder.AddTemplates();
        builder.AddDelivery();
        // After AddDelivery: the Telegram and email channels replace the outbox's (the last registration of a name wins).
        builder.AddTelegram();
        builder.AddEmail();
        builder.AddJobs();
        builder.AddAdmin();
        builder.AddBounces();
        var services = builder.Build().Services;
        ServiceHost.ValidateOptionsNow(services);
        return services;
    }

    /// <summary>Runs a verb: configuration errors exit 2 with one line per key, expected failures exit 1 with one line.</summary>
    public static async Task<int> RunVerbAsync(TextWriter error, Func<Task<int>> verb)
    {
        try
        {
            return await verb();
        }
        catch (Exception e) when (ServiceHost.ConfigurationFailures(e) is { Count: > 0 } failures)
        {
            return ServiceHost.ReportConfigurationError(failures, error);
        }
        catch (Exception e) when (e is FeedFetchException or FeedFormatException or ArgumentException or SubscriberException or AdminRequestException)
        {
            await error.WriteLineAsync("error: " + e.Message);
            return 1;
        }
    }

    public static async Task<IServiceProvider> OpenStoreAsync(Func<IServiceProvider> services, CancellationToken ct)
    {
        var provider = services();
        await provider.MigrateStorageAsync(ct);
        return provider;
    }
}
