using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

using Telegram.Bot;
using Telegram.Bot.Types.Enums;

namespace NewsBot.Tests.Telegram;

/// <summary>The fake answers as the Bot API documents it, so the channel tests against it mean something.</summary>
public sealed class FakeBotApiTests : IAsyncLifetime
{
    private readonly HttpClient http = new();
    private FakeBotApi fake = null!;

    public async Task InitializeAsync() => fake = await FakeBotApi.StartAsync();

    public async Task DisposeAsync()
    {
        http.Dispose();
        await fake.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonObject Body)> CallAsync(string method, object parameters)
    {
        using var response = await http.PostAsJsonAsync($"{fake.BaseUrl}/bot{fake.Token}/{method}", parameters);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        return (response.StatusCode, body);
    }

    private Task<(HttpStatusCode Status, JsonObject Body)> SendHtmlAsync(long chatId, string text) =>
        CallAsync("sendMessage", new { chat_id = chatId, text, parse_mode = "HTML" });

    [Theory]
    [InlineData("<b>bold", "Can't find end tag corresponding to start tag \"b\"")]
    [InlineData("<b>x</i>", "Unmatched end tag")]
    [InlineData("<script>alert(1)</script>", "Unsupported start tag \"script\"")]
    [InlineData("<span>x</span>", "Unsupported start tag \"span\"")]
    [InlineData("<a>no href</a>", "Unsupported start tag \"a\"")]
    [InlineData("fish &nbsp; chips", "Unsupported HTML entity \"&nbsp;\"")]
    [InlineData("fish & chips", "Character entity expected")]
    [InlineData("a < b", "Can't find end of the tag starting at byte offset 2")]
    public async Task HtmlThatTelegramRefusesIsABadRequest(string text, string expected)
    {
        var (status, body) = await SendHtmlAsync(1, text);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.False((bool)body["ok"]!);
        Assert.Equal(400, (int)body["error_code"]!);
        var description = (string)body["description"]!;
        Assert.StartsWith("Bad Request: can't parse entities: ", description);
        Assert.Contains(expected, description);
        Assert.Empty(fake.Messages);
    }

    [Fact]
    public async Task TelegramsTagsAndEntitiesAreAcceptedWithEntityOffsetsInUtf16Units()
    {
        var (status, body) = await SendHtmlAsync(77,
            "😀<b>Bold</b> &lt;x&gt; &amp; &quot;q&quot; &#65;&#x42; <a href=\"https://example.org/?a=1&amp;b=2\">link</a> <span class=\"tg-spoiler\">s</span> <blockquote>q</blockquote>");

        Assert.Equal(HttpStatusCode.OK, status);
        var message = body["result"]!.AsObject();
        Assert.Equal(77, (long)message["chat"]!["id"]!);
        Assert.Equal("private", (string)message["chat"]!["type"]!);
        Assert.Equal("😀Bold <x> & \"q\" AB link s q", (string)message["text"]!);
        var entities = message["entities"]!.AsArray();
        Assert.Equal("bold", (string)entities[0]!["type"]!);
        Assert.Equal(2, (int)entities[0]!["offset"]!);
        Assert.Equal(4, (int)entities[0]!["length"]!);
        Assert.Equal("text_link", (string)entities[1]!["type"]!);
        Assert.Equal("https://example.org/?a=1&b=2", (string)entities[1]!["url"]!);
        Assert.Equal(["bold", "text_link", "spoiler", "blockquote"], entities.Select(e => (string)e!["type"]!));
        Assert.Single(fake.Messages);
    }

    [Fact]
    public async Task LengthIsCountedAfterEntityParsingInUtf16CodeUnits()
    {
        var tenThousand = new string('x', 10_000);
        // 4,096 visible characters written with 12,000+ characters of markup and entities.
        var withEntities = "<b>" + string.Concat(Enumerable.Repeat("&amp;", 2048)) + "</b><i>" + new string('y', 2048) + "</i>";
        var emoji4096 = string.Concat(Enumerable.Repeat("😀", 2048));

        var (longStatus, longBody) = await SendHtmlAsync(1, tenThousand);
        var (okStatus, okBody) = await SendHtmlAsync(2, withEntities);
        var (overStatus, overBody) = await SendHtmlAsync(3, withEntities + "z");
        var (emojiStatus, _) = await SendHtmlAsync(4, emoji4096);
        var (emojiOverStatus, _) = await SendHtmlAsync(5, emoji4096 + "😀");
        var (emptyStatus, emptyBody) = await SendHtmlAsync(6, "<b></b>");

        Assert.Equal(HttpStatusCode.BadRequest, longStatus);
        Assert.Equal("Bad Request: message is too long", (string)longBody["description"]!);
        Assert.True(withEntities.Length > 12_000);
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.Equal(4096, ((string)okBody["result"]!["text"]!).Length);
        Assert.Equal(HttpStatusCode.BadRequest, overStatus);
        Assert.Equal("Bad Request: message is too long", (string)overBody["description"]!);
        Assert.Equal(HttpStatusCode.OK, emojiStatus);
        Assert.Equal(HttpStatusCode.BadRequest, emojiOverStatus);
        Assert.Equal("Bad Request: message text is empty", (string)emptyBody["description"]!);
        Assert.Equal([2L, 4L], fake.Messages.Select(m => m.ChatId));
    }

    [Fact]
    public async Task OverTheGlobalLimitTheAnswerIs429WithRetryAfter()
    {
        fake.MessagesPerSecond = 2;

        var first = await SendHtmlAsync(1, "a");
        var second = await SendHtmlAsync(2, "b");
        var third = await SendHtmlAsync(3, "c");

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal((HttpStatusCode)429, third.Status);
        Assert.Equal(429, (int)third.Body["error_code"]!);
        Assert.Equal("Too Many Requests: retry after 1", (string)third.Body["description"]!);
        Assert.Equal(1, (int)third.Body["parameters"]!["retry_after"]!);
        Assert.Equal(1, fake.TooManyRequests);
        Assert.Equal(2, fake.Messages.Count);
    }

    [Fact]
    public async Task PerChatAndPerGroupLimitsApplyToTheirChatOnly()
    {
        fake.PerChatPerSecond = 1;
        fake.GroupMessagesPerMinute = 2;

        var (chatFirst, _) = await SendHtmlAsync(10, "a");
        var (chatSecond, _) = await SendHtmlAsync(10, "b");
        var (otherChat, _) = await SendHtmlAsync(11, "c");
        fake.PerChatPerSecond = 0;
        var (groupFirst, _) = await SendHtmlAsync(-20, "d");
        var (groupSecond, _) = await SendHtmlAsync(-20, "e");
        var (groupThird, groupBody) = await SendHtmlAsync(-20, "f");

        Assert.Equal(HttpStatusCode.OK, chatFirst);
        Assert.Equal((HttpStatusCode)429, chatSecond);
        Assert.Equal(HttpStatusCode.OK, otherChat);
        Assert.Equal(HttpStatusCode.OK, groupFirst);
        Assert.Equal(HttpStatusCode.OK, groupSecond);
        Assert.Equal((HttpStatusCode)429, groupThird);
        // 2 per minute: the next message fits in 30 seconds.
        Assert.InRange((int)groupBody["parameters"]!["retry_after"]!, 29, 30);
    }

    [Fact]
    public async Task BlockedUnknownAndMigratedChatsAnswerAsTelegramDoes()
    {
        fake.Block(5);
        fake.Migrate(-6, -1_000_000_000_006);
        var (blocked, blockedBody) = await SendHtmlAsync(5, "x");
        var (migrated, migratedBody) = await SendHtmlAsync(-6, "x");
        var (supergroup, supergroupBody) = await SendHtmlAsync(-1_000_000_000_006, "x");
        fake.AnyChatExists = false;
        fake.AddChat(8);
        var (unknown, unknownBody) = await SendHtmlAsync(7, "x");
        var (known, _) = await SendHtmlAsync(8, "x");

        Assert.Equal(HttpStatusCode.Forbidden, blocked);
        Assert.Equal("Forbidden: bot was blocked by the user", (string)blockedBody["description"]!);
        Assert.Equal(HttpStatusCode.BadRequest, migrated);
        Assert.Equal(-1_000_000_000_006, (long)migratedBody["parameters"]!["migrate_to_chat_id"]!);
        Assert.Equal(HttpStatusCode.OK, supergroup);
        Assert.Equal("supergroup", (string)supergroupBody["result"]!["chat"]!["type"]!);
        Assert.Equal(HttpStatusCode.BadRequest, unknown);
        Assert.Equal("Bad Request: chat not found", (string)unknownBody["description"]!);
        Assert.Equal(HttpStatusCode.OK, known);
    }

    [Fact]
    public async Task GetUpdatesConfirmsByOffsetAndLongPollsUntilAnUpdateArrives()
    {
        var first = fake.EnqueueMessage(42, "/start");
        var second = fake.EnqueueMessage(42, "hello");
        var third = fake.EnqueueMessage(42, "/topics sanctions");

        var (_, all) = await CallAsync("getUpdates", new { });
        var (_, fromSecond) = await CallAsync("getUpdates", new { offset = second });
        var (_, again) = await CallAsync("getUpdates", new { });
        var (_, none) = await CallAsync("getUpdates", new { offset = third + 1 });
        var started = DateTimeOffset.UtcNow;
        var poll = CallAsync("getUpdates", new { offset = third + 1, timeout = 30 });
        await Task.Delay(200);
        var fourth = fake.EnqueueMessage(43, "late");
        var (_, polled) = await poll;

        Assert.Equal([first, second, third], all["result"]!.AsArray().Select(u => (long)u!["update_id"]!));
        Assert.Equal("bot_command", (string)all["result"]![0]!["message"]!["entities"]![0]!["type"]!);
        Assert.Equal([second, third], fromSecond["result"]!.AsArray().Select(u => (long)u!["update_id"]!));
        Assert.Equal([second, third], again["result"]!.AsArray().Select(u => (long)u!["update_id"]!));
        Assert.Empty(none["result"]!.AsArray());
        Assert.Equal([fourth], polled["result"]!.AsArray().Select(u => (long)u!["update_id"]!));
        Assert.True(DateTimeOffset.UtcNow - started < fake.LongPollCap, "the long poll returned when the update arrived");
    }

    [Fact]
    public async Task TelegramBotClientTalksToTheFake()
    {
        var client = new TelegramBotClient(new TelegramBotClientOptions(fake.Token, fake.BaseUrl) { RetryCount = 0 }, http);

        var me = await client.GetMe();
        var sent = await client.SendMessage(-1_000_000_000_123, "<i>hi</i> &amp; bye", ParseMode.Html);
        await client.SetMyCommands([new() { Command = "start", Description = "subscribe" }]);
        await client.SetWebhook("https://bot.example.org/hook");
        var hook = fake.WebhookUrl;
        await client.DeleteWebhook();

        Assert.Equal(123456, me.Id);
        Assert.True(me.IsBot);
        Assert.Equal(ChatType.Supergroup, sent.Chat.Type);
        Assert.Equal("hi & bye", sent.Text);
        Assert.Equal(MessageEntityType.Italic, Assert.Single(sent.Entities!).Type);
        Assert.Contains("\"start\"", fake.Commands);
        Assert.Equal("https://bot.example.org/hook", hook);
        Assert.Null(fake.WebhookUrl);
    }

    [Fact]
    public async Task AWrongTokenIsUnauthorized()
    {
        using var response = await http.PostAsJsonAsync($"{fake.BaseUrl}/bot999:wrong/getMe", new { });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("\"error_code\":401", await response.Content.ReadAsStringAsync());
    }
}
