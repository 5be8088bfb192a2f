using Microsoft.Extensions.Options;

using NewsBot.Delivery;

namespace NewsBot.Email;

public static class EmailServices
{
    /// <summary>
    /// The <c>NewsBot:Email</c> options, the message composer (the outbox uses it too), and the SMTP channel when
    /// <c>NewsBot:Email:Smtp:Host</c> is set. Call after <c>AddDelivery</c>: the last channel registered under a name
    /// wins, so this one replaces the outbox. Without a host the start log says once that email goes to the outbox.
    /// </summary>
    public static IHostApplicationBuilder AddEmail(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<EmailOptions>().BindConfiguration(EmailOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<EmailOptions>, EmailOptionsValidator>();
        builder.Services.AddSingleton(sp => new EmailComposer(sp.GetRequiredService<IOptions<EmailOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        if (string.IsNullOrWhiteSpace(builder.Configuration[EmailOptions.Section + ":Smtp:Host"]))
        {
            builder.Services.AddSingleton<IHostedService>(sp => new StartupNotice(
                sp.GetRequiredService<ILogger<StartupNotice>>(),
                "Email is off: messages go to the outbox folder; set NewsBot:Email:Smtp:Host (env NewsBot__Email__Smtp__Host) to send them by SMTP"));
            return builder;
        }

        // One instance for the process: the pool's connections are shared by every dispatch job.
        builder.Services.AddSingleton<EmailChannel>();
        builder.Services.AddSingleton<IChannel>(sp => sp.GetRequiredService<EmailChannel>());
        return builder;
    }

    /// <summary>One line per wrong key; a DKIM key file that does not load is reported here, before anything is sent.</summary>
    private sealed class EmailOptionsValidator : IValidateOptions<EmailOptions>
    {
        public ValidateOptionsResult Validate(string? name, EmailOptions options)
        {
            var errors = options.Validate().ToList();
            if (errors.Count == 0 && options.SmtpEnabled && options.Dkim.Enabled)
            {
                try
                {
                    using var composer = new EmailComposer(options, TimeProvider.System);
                }
                catch (ArgumentException e)
                {
                    errors.Add(e.Message);
                }
            }

            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
