using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

using NewsBot.Email;
using NewsBot.Storage;
using NewsBot.Subscribers;

namespace NewsBot.Delivery;

public static class DeliveryServices
{
    /// <summary>The ledger, planner, jobs, and the outbox as the email and Telegram channel until real ones exist.</summary>
    public static IHostApplicationBuilder AddDelivery(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DeliveryOptions>, DeliveryOptionsValidator>();
        builder.Services.AddSingleton(sp => new DeliveryStore(
            sp.GetRequiredService<Db>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<StorageOptions>>().Value.InstanceName,
            sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.LeaseDuration));
        builder.Services.TryAddSingleton<SubscriberStore>();
        builder.Services.AddTransient<DeliveryPlanner>();
        builder.Services.AddTransient<DispatchJob>();
        builder.Services.AddTransient<AnnounceJob>();
        builder.Services.AddTransient<DigestJob>();
        // Registered first: AddTelegram and AddEmail add their channels after these, and the last registration of a
        // name wins in DispatchJob. The email outbox writes each message as EmailComposer (from AddEmail) makes it.
        foreach (var name in Channels.All)
        {
            builder.Services.AddSingleton<IChannel>(sp => new OutboxChannel(
                name,
                Path.Combine(sp.GetRequiredService<IOptions<StorageOptions>>().Value.DataDirectory, "outbox"),
                sp.GetRequiredService<EmailComposer>(),
                sp.GetRequiredService<IOptions<DeliveryOptions>>().Value.OutboxRatePerSecond));
        }

        return builder;
    }

    /// <summary>The digest schedule and the recovery of unfinished sends; the service only, never the CLI.</summary>
    public static IHostApplicationBuilder AddDeliverySchedule(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHostedService<DeliveryRecovery>();
        builder.Services.AddHostedService<LeaseSweeper>();
        builder.Services.AddHostedService<DigestScheduler>();
        return builder;
    }

    private sealed class DeliveryOptionsValidator(IConfiguration configuration) : IValidateOptions<DeliveryOptions>
    {
        public ValidateOptionsResult Validate(string? name, DeliveryOptions options)
        {
            var errors = options.Validate().ToList();
            // Removed settings: a config that still sets them would otherwise be ignored without a word.
            foreach (var removed in (string[])["TelegramRatePerSecond", "EmailRatePerSecond"])
            {
                if (configuration[$"{DeliveryOptions.Section}:{removed}"] is not null)
                {
                    errors.Add($"{DeliveryOptions.Section}:{removed} is no longer read: a send's ETA uses the rate each channel sends at (Telegram: NewsBot:Telegram:GlobalMessagesPerSecond; the outbox: {DeliveryOptions.Section}:OutboxRatePerSecond); remove it");
                }
            }

            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
