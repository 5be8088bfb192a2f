using System.Globalization;
using System.Text.Json;

using NewsBot.Feeds;
using NewsBot.Posts;

namespace NewsBot.Cli;

/// <summary>
/// The documented JSON shape of <c>feeds parse --json</c> and the <c>posts</c> verbs: dates ISO-8601 UTC to the
/// second (<c>2004-01-01T19:48:21Z</c>), missing values null, lists never null.
/// </summary>
public static class PostJson
{
    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public sealed record JsonPost(string? Id, string? Url, string? Title, string? Author, DateTimeOffset? Published, DateTimeOffset? Updated, IReadOnlyList<string> Labels, IReadOnlyList<string> Topics, string? Summary, long? PostId = null);

    public static void WriteFeed(Stream stream, ParsedFeed feed, IEnumerable<JsonPost> posts)
    {
        using var json = new Utf8JsonWriter(stream, Indented);
        json.WriteStartObject();
        json.WriteStartObject("feed");
        json.WriteString("title", feed.Title);
        json.WriteString("link", feed.Link);
        json.WriteString("type", feed.Type.ToString().ToLowerInvariant());
        json.WriteEndObject();
        WritePosts(json, posts);
        json.WriteEndObject();
    }

    public static void WriteStored(Stream stream, IEnumerable<Post> posts)
    {
        using var json = new Utf8JsonWriter(stream, Indented);
        json.WriteStartObject();
        WritePosts(json, posts.Select(p => new JsonPost(p.Key, p.Url, p.Title, p.Author, p.Published, p.Updated, p.Labels, p.Topics, p.Summary, p.Id)));
        json.WriteEndObject();
    }

    public static string FormatDate(DateTimeOffset date) => date.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static void WritePosts(Utf8JsonWriter json, IEnumerable<JsonPost> posts)
    {
        json.WriteStartArray("posts");
        foreach (var post in posts)
        {
            json.WriteStartObject();
            if (post.PostId is { } postId)
            {
                json.WriteNumber("postId", postId);
            }

            json.WriteString("id", post.Id);
            json.WriteString("url", post.Url);
            json.WriteString("title", post.Title);
            json.WriteString("author", post.Author);
            WriteDate(json, "published", post.Published);
            WriteDate(json, "updated", post.Updated);
            WriteStrings(json, "labels", post.Labels);
            WriteStrings(json, "topics", post.Topics);
            json.WriteString("summary", post.Summary);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteDate(Utf8JsonWriter json, string name, DateTimeOffset? date)
    {
        if (date is { } value)
        {
            json.WriteString(name, FormatDate(value));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IReadOnlyList<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }
}
