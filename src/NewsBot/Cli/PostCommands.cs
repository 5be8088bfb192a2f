using System.CommandLine;

using NewsBot.Posts;
using NewsBot.Topics;

namespace NewsBot.Cli;

/// <summary><c>posts latest</c> and <c>posts search</c>.</summary>
public static class PostCommands
{
    public static Command Create(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var posts = new Command("posts", "Show stored posts.");
        posts.Subcommands.Add(CreateLatest(services, output, error));
        posts.Subcommands.Add(CreateSearch(services, output, error));
        return posts;
    }

    private static Option<int> CountOption() => new("-n", "--count") { Description = "How many posts (1-200).", DefaultValueFactory = _ => 10 };

    private static Command CreateLatest(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var count = CountOption();
        var topic = new Option<string?>("--topic", "-t") { Description = "Only posts of this topic." };
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var command = new Command("latest", "The newest posts, newest first.") { count, topic, json };
        command.SetAction((result, ct) => CliApp.RunVerbAsync(error, async () =>
        {
            var provider = await CliApp.OpenStoreAsync(services, ct);
            var topicName = FindTopic(provider.GetRequiredService<TopicMatcher>(), result.GetValue(topic));
            var latest = await provider.GetRequiredService<PostStore>().LatestAsync(CheckCount(result.GetValue(count)), topicName, ct);
            await WritePostsAsync(output, latest, result.GetValue(json));
            return 0;
        }));
        return command;
    }

    private static Command CreateSearch(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var words = new Argument<string[]>("words") { Description = "Words to look for in titles and text (stemmed: 'sanction' finds 'sanctions').", Arity = ArgumentArity.OneOrMore };
        var count = CountOption();
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var command = new Command("search", "Full-text search over stored posts, best match first.") { words, count, json };
        command.SetAction((result, ct) => CliApp.RunVerbAsync(error, async () =>
        {
            var provider = await CliApp.OpenStoreAsync(services, ct);
            var found = await provider.GetRequiredService<PostStore>().SearchAsync(string.Join(' ', result.GetValue(words)!), CheckCount(result.GetValue(count)), ct);
            await WritePostsAsync(output, found, result.GetValue(json));
            return 0;
        }));
        return command;
    }

    private static string? FindTopic(TopicMatcher topics, string? name)
    {
        if (name is null)
        {
            return null;
        }

        return topics.TryFind(name, out var topic)
            ? topic.Name
            : throw new ArgumentException($"--topic '{name}' is not a topic; topics: {string.Join(", ", topics.Names)}");
    }

    private static int CheckCount(int count) =>
        count is >= 1 and <= 200 ? count : throw new ArgumentException($"-n {count} is out of range: give 1 to 200");

    private static async Task WritePostsAsync(TextWriter output, IReadOnlyList<Post> posts, bool json)
    {
        if (json)
        {
            await using var buffer = new MemoryStream();
            PostJson.WriteStored(buffer, posts);
            await output.WriteLineAsync(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
            return;
        }

        if (posts.Count == 0)
        {
            await output.WriteLineAsync("No posts.");
        }

        foreach (var post in posts)
        {
            var date = post.Published is { } published ? published.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : "----------";
            await output.WriteLineAsync($"#{post.Id}  {date}  {post.Title}{(post.Topics.Count > 0 ? "  [" + string.Join(", ", post.Topics) + "]" : "")}");
            if (post.Url is not null)
            {
                await output.WriteLineAsync($"      {post.Url}");
            }
        }
    }
}
