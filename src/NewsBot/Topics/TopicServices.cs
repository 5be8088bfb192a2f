using Microsoft.Extensions.Options;

namespace NewsBot.Topics;

/// <summary>The topic part of the <c>NewsBot</c> section; the built-in topics apply when none is configured.</summary>
public sealed class TopicsOptions
{
    public List<TopicOptions> Topics { get; set; } = [];

    public IReadOnlyList<TopicOptions> Effective => Topics.Count > 0 ? Topics : TopicDefaults.All;
}

public static class TopicServices
{
    public static IHostApplicationBuilder AddTopics(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TopicsOptions>().BindConfiguration("NewsBot").ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TopicsOptions>, TopicsOptionsValidator>();
        builder.Services.AddSingleton(sp => new TopicMatcher(sp.GetRequiredService<IOptions<TopicsOptions>>().Value.Effective));
        return builder;
    }

    private sealed class TopicsOptionsValidator : IValidateOptions<TopicsOptions>
    {
        public ValidateOptionsResult Validate(string? name, TopicsOptions options)
        {
            var errors = TopicOptions.Validate(options.Topics, TopicOptions.Section).ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
