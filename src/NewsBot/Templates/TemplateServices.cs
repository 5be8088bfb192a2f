using Microsoft.Extensions.Options;

namespace NewsBot.Templates;

public static class TemplateServices
{
    /// <summary>The renderer and its options; the templates are loaded and checked with the options, so a broken one stops the start (exit 2).</summary>
    public static IHostApplicationBuilder AddTemplates(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TemplateOptions>().BindConfiguration(TemplateOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TemplateOptions>, TemplateOptionsValidator>();
        builder.Services.AddSingleton(sp => new TemplateRenderer(sp.GetRequiredService<IOptions<TemplateOptions>>().Value));
        return builder;
    }

    private sealed class TemplateOptionsValidator : IValidateOptions<TemplateOptions>
    {
        public ValidateOptionsResult Validate(string? name, TemplateOptions options)
        {
            var errors = new List<string>();
            if (string.IsNullOrWhiteSpace(options.SiteName))
            {
                errors.Add($"{TemplateOptions.Section}:SiteName is empty: templates show it as site.name");
            }

            if (HtmlText.SafeUrl(options.PublicBaseUrl) != options.PublicBaseUrl)
            {
                errors.Add($"{TemplateOptions.Section}:PublicBaseUrl '{options.PublicBaseUrl}' is not an absolute http(s) URL");
            }

            if (errors.Count == 0)
            {
                try
                {
                    _ = new TemplateRenderer(options);
                }
                catch (TemplateException e)
                {
                    errors.AddRange(e.Message.Split(Environment.NewLine).Select(line => $"{TemplateOptions.Section}: {line}"));
                }
            }

            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
