using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;

using NewsBot.Subscribers;
using NewsBot.Topics;

namespace NewsBot.Cli;

/// <summary><c>subscribers add</c>, <c>list</c>, <c>import</c> and <c>suppress</c>.</summary>
public static class SubscriberCommands
{
    private const int ListPageSize = 500;

    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var subscribers = new Command("subscribers", "Add, list, import and suppress subscribers.");
        subscribers.Subcommands.Add(CreateAdd(services, output, error));
        subscribers.Subcommands.Add(CreateList(services, output, error));
        subscribers.Subcommands.Add(CreateImport(services, output, error));
        subscribers.Subcommands.Add(CreateSuppress(services, output, error));
        return subscribers;
    }

    private static Command CreateAdd(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var email = new Option<string?>("--email") { Description = "Email address." };
        var telegram = new Option<long?>("--telegram") { Description = "Telegram chat id (negative for groups and channels)." };
        var topics = new Option<string?>("--topics") { Description = "Comma-separated topics (default: all topics)." };
        var cadence = new Option<string>("--cadence") { Description = "How often: each post as it comes, a daily or weekly digest, or nothing.", DefaultValueFactory = _ => "instant" };
        cadence.AcceptOnlyFromAmong("instant", "daily", "weekly", "off");
        var timeZone = new Option<string>("--time-zone") { Description = "IANA time zone for digest times (Asia/Tokyo).", DefaultValueFactory = _ => "UTC" };
        var name = new Option<string?>("--name") { Description = "A name to show in lists." };
        var command = new Command("add", "Add a subscriber with an email address, a Telegram chat, or both.") { email, telegram, topics, cadence, timeZone, name };
        command.SetAction((result, ct) => CliApp.RunVerbAsync(error, async () =>
        {
            if (result.GetValue(email) is null && result.GetValue(telegram) is null)
            {
                throw new ArgumentException("give --email, --telegram or both");
            }

            var provider = await CliApp.OpenStoreAsync(services, ct);
            var topicNames = FindTopics(provider.GetRequiredService<TopicMatcher>(), result.GetValue(topics));
            var store = provider.GetRequiredService<SubscriberStore>();
            var id = await store.AddAsync(
                new NewSubscriber(
                    result.GetValue(email),
                    result.GetValue(telegram),
                    topicNames,
                    SubscriberStore.ParseCadence(result.GetValue(cadence)!),
                    result.GetValue(timeZone)!,
                    result.GetValue(name)),
                ct);
            await output.WriteLineAsync(FormatSubscriber((await store.GetAsync(id, ct))!));
            return 0;
        }));
        return command;
    }

    private static Command CreateList(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var command = new Command("list", "List subscribers with their channels, topics and cadence, by id.") { json };
        command.SetAction((result, ct) => CliApp.RunVerbAsync(error, async () =>
        {
            var store = (await CliApp.OpenStoreAsync(services, ct)).GetRequiredService<SubscriberStore>();
            var asJson = result.GetValue(json);
            // Page by page, so a million subscribers print without being held in memory.
            using var buffer = new MemoryStream();
            using var writer = new Utf8JsonWriter(buffer, Indented);
            if (asJson)
            {
                writer.WriteStartObject();
                writer.WriteStartArray("subscribers");
            }

            var afterId = 0L;
            var any = false;
            while (await store.ListAsync(ListPageSize, afterId, ct) is { Count: > 0 } page)
            {
                any = true;
                foreach (var subscriber in page)
                {
                    if (asJson)
                    {
                        WriteSubscriber(writer, subscriber);
                    }
                    else
                    {
                        await output.WriteLineAsync(FormatSubscriber(subscriber));
                    }
                }

                afterId = page[^1].Id;
                await FlushAsync(writer, buffer, output);
            }

            if (asJson)
            {
                writer.WriteEndArray();
                writer.WriteEndObject();
                await FlushAsync(writer, buffer, output);
                await output.WriteLineAsync();
            }
            else if (!any)
            {
                await output.WriteLineAsync("No subscribers.");
            }

            return 0;
        }));
        return command;
    }

    private static Command CreateImport(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("csv") { Description = "A CSV file with a header row of email, telegram, topics, cadence, time_zone, name (any order, any subset with email or telegram)." };
        var command = new Command("import", "Import subscribers from CSV; bad rows are reported by line and skipped, good rows go in.") { file };
        command.SetAction((result, ct) => CliApp.RunVerbAsync(error, async () =>
        {
            var path = result.GetValue(file)!;
            var provider = await CliApp.OpenStoreAsync(services, ct);
            ImportResult imported;
            try
            {
                using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
                imported = await provider.GetRequiredService<SubscriberStore>().ImportCsvAsync(reader, provider.GetRequiredService<TopicMatcher>(), ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or SubscriberException)
            {
                await error.WriteLineAsync($"error: cannot import '{path}': {e.Message}");
                return 1;
            }

            await output.WriteLineAsync($"Imported {imported.Imported} subscriber(s), skipped {imported.Skipped} row(s).");
            foreach (var line in imported.Errors)
            {
                await error.WriteLineAsync(line);
            }

            return 0;
        }));
        return command;
    }

    private static Command CreateSuppress(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var channel = new Argument<string>("channel") { Description = "email or telegram." };
        channel.AcceptOnlyFromAmong([.. Channels.All]);
        var address = new Argument<string>("address") { Description = "The email address or Telegram chat id." };
        var reason = new Option<string>("--reason") { Description = "Why (kept with the suppression).", DefaultValueFactory = _ => "manual" };
        var command = new Command("suppress", "Never send to this address again, whether or not it is subscribed.") { channel, address, reason };
        command.SetAction((result, ct) => CliApp.RunVerbAsync(error, async () =>
        {
            var store = (await CliApp.OpenStoreAsync(services, ct)).GetRequiredService<SubscriberStore>();
            var normalized = SubscriberStore.NormalizeAddress(result.GetValue(channel)!, result.GetValue(address)!);
            await store.SuppressAsync(result.GetValue(channel)!, normalized, result.GetValue(reason)!, ct);
            await output.WriteLineAsync($"Suppressed {result.GetValue(channel)} '{normalized}': {result.GetValue(reason)}");
            return 0;
        }));
        return command;
    }

    private static string[] FindTopics(TopicMatcher topics, string? list)
    {
        if (list is null)
        {
            return [];
        }

        return [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(name =>
            topics.TryFind(name, out var topic)
                ? topic.Name
                : throw new ArgumentException($"--topics '{name}' is not a topic; topics: {string.Join(", ", topics.Names)}"))];
    }

    private static string FormatSubscriber(Subscriber s)
    {
        var channels = string.Join(", ", s.Channels.Select(c => $"{c.Channel} {c.Address}{(c.Status == ChannelStatus.Active ? "" : " (" + SubscriberStore.FormatStatus(c.Status) + ")")}"));
        var topics = s.Topics.Count == 0 ? "all topics" : string.Join(", ", s.Topics);
        return $"#{s.Id}  {SubscriberStore.FormatCadence(s.Cadence)}  {s.TimeZone}  {channels}  [{topics}]{(s.Name is null ? "" : "  " + s.Name)}";
    }

    private static void WriteSubscriber(Utf8JsonWriter json, Subscriber s)
    {
        json.WriteStartObject();
        json.WriteNumber("id", s.Id);
        json.WriteString("name", s.Name);
        json.WriteString("cadence", SubscriberStore.FormatCadence(s.Cadence));
        json.WriteString("timeZone", s.TimeZone);
        json.WriteStartArray("topics");
        foreach (var topic in s.Topics)
        {
            json.WriteStringValue(topic);
        }

        json.WriteEndArray();
        json.WriteStartArray("channels");
        foreach (var channel in s.Channels)
        {
            json.WriteStartObject();
            json.WriteString("channel", channel.Channel);
            json.WriteString("address", channel.Address);
            json.WriteString("status", SubscriberStore.FormatStatus(channel.Status));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("createdAt", PostJson.FormatDate(s.CreatedAt));
        if (s.LastDigestAt is { } last)
        {
            json.WriteString("lastDigestAt", PostJson.FormatDate(last));
        }
        else
        {
            json.WriteNull("lastDigestAt");
        }

        json.WriteEndObject();
    }

    private static async Task FlushAsync(Utf8JsonWriter writer, MemoryStream buffer, TextWriter output)
    {
        await writer.FlushAsync();
        if (buffer.Length > 0)
        {
            await output.WriteAsync(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            buffer.SetLength(0);
        }
    }
}
