using Microsoft.Extensions.Options;

namespace NewsBot.Admin;

public static class AdminServices
{
    public static IHostApplicationBuilder AddAdmin(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdminOptions>().BindConfiguration("NewsBot:Admin").ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>();
        builder.Services.AddTransient<AdminService>();
        return builder;
    }
}
