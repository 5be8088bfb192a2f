namespace NewsBot.Email;

public static class EmailServices
{
    /// <summary>Email stays off until <c>NewsBot:Email:Smtp:Host</c> is set; the start log says so once.</summary>
    public static IHostApplicationBuilder AddEmail(this IHostApplicationBuilder builder)
    {
        var host = builder.Configuration["NewsBot:Email:Smtp:Host"];
        builder.Services.AddSingleton<IHostedService>(sp => new StartupNotice(
            sp.GetRequiredService<ILogger<StartupNotice>>(),
            string.IsNullOrWhiteSpace(host)
                ? "Email is off: set NewsBot:Email:Smtp:Host (env NewsBot__Email__Smtp__Host) to send newsletters"
                : "SMTP host is set; the email channel arrives with the email issue and sends nothing yet"));
        return builder;
    }
}
