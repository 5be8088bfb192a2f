using Microsoft.Extensions.Options;

namespace NewsBot.Email;

public static class BounceServices
{
    /// <summary>The <c>NewsBot:Email:Bounces</c> options (validated at start), the bounce store and processor.</summary>
    public static IHostApplicationBuilder AddBounces(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<BounceOptions>().BindConfiguration(BounceOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<BounceOptions>, BounceOptionsValidator>();
        builder.Services.AddSingleton<BounceStore>();
        builder.Services.AddTransient<BounceProcessor>();
        builder.Services.AddTransient<BounceMailboxJob>();
        return builder;
    }

    /// <summary>The recurring poll of the bounce mailbox; the service only, never the CLI.</summary>
    public static IHostApplicationBuilder AddBounceSchedule(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHostedService<BounceScheduler>();
        return builder;
    }
}
