using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace NewsBot.Tests.Telegram;

/// <summary>The fake's channels, getChat and getChatMember answer in the shapes of the Bot API spec (corpus api.json).</summary>
public sealed class FakeBotApiChatTests : IAsyncLifetime
{
    private const long Channel = -1001234567890;
    private const long Group = -1002000000001;

    private readonly HttpClient http = new();
    private FakeBotApi fake = null!;

    public async Task InitializeAsync()
    {
        fake = await FakeBotApi.StartAsync();
        fake.AddChannel(Channel, "harbour_news");
    }

    public async Task DisposeAsync()
    {
        http.Dispose();
        await fake.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonObject Body)> CallAsync(string method, object parameters)
    {
        using var response = await http.PostAsJsonAsync($"{fake.BaseUrl}/bot{fake.Token}/{method}", parameters);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    [SkippableFact]
    public async Task GetChatAndGetChatMemberHaveExactlyTheFieldsOfTheirTypesInApiJson()
    {
        var spec = JsonNode.Parse(File.ReadAllText(TestPaths.RequireCorpus("telegram/api.json")))!["types"]!;
        fake.SetMember(Group, 1, "creator");
        fake.SetMember(Group, 2, "administrator");
        fake.SetMember(Group, 4, "left");
        fake.SetMember(Group, 5, "kicked");
        fake.SetMember(Channel, fake.BotId, "administrator");

        var answers = new List<(string Type, JsonObject Result)>
        {
            ("ChatFullInfo", (await CallAsync("getChat", new { chat_id = "@harbour_news" })).Body["result"]!.AsObject()),
            ("ChatFullInfo", (await CallAsync("getChat", new { chat_id = Group })).Body["result"]!.AsObject()),
            ("ChatMemberAdministrator", (await CallAsync("getChatMember", new { chat_id = "@harbour_news", user_id = fake.BotId })).Body["result"]!.AsObject()),
        };
        foreach (var (user, type) in new[] { (1, "ChatMemberOwner"), (2, "ChatMemberAdministrator"), (3, "ChatMemberMember"), (4, "ChatMemberLeft"), (5, "ChatMemberBanned") })
        {
            answers.Add((type, (await CallAsync("getChatMember", new { chat_id = Group, user_id = user })).Body["result"]!.AsObject()));
        }

        foreach (var (type, result) in answers)
        {
            var fields = spec[type]!["fields"]!.AsArray();
            var required = fields.Where(f => (bool)f!["required"]!).Select(f => (string)f!["name"]!).ToList();
            var known = fields.Select(f => (string)f!["name"]!).ToHashSet();
            Assert.All(required, name => Assert.True(result.ContainsKey(name), $"{type} lacks required '{name}': {result.ToJsonString()}"));
            Assert.All(result.Select(p => p.Key), name => Assert.True(known.Contains(name), $"{type} has no field '{name}'"));
        }

        Assert.Equal("channel", (string)answers[0].Result["type"]!);
        Assert.Equal(Channel, (long)answers[0].Result["id"]!);
        Assert.True((bool)answers[2].Result["can_post_messages"]!);
        Assert.Equal(["creator", "administrator", "member", "left", "kicked"], answers.Skip(3).Select(a => (string)a.Result["status"]!));
    }

    [Fact]
    public async Task AChannelTakesPostsByUsernameOnlyFromAnAdminBot()
    {
        var refused = await CallAsync("sendMessage", new { chat_id = "@harbour_news", text = "hello" });
        fake.SetMember(Channel, fake.BotId, "administrator");
        var accepted = await CallAsync("sendMessage", new { chat_id = "@Harbour_News", text = "hello" });
        var unknown = await CallAsync("sendMessage", new { chat_id = "@nobody_here", text = "hello" });

        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("Forbidden: bot is not a member of the channel chat", (string)refused.Body["description"]!);
        Assert.Equal(HttpStatusCode.OK, accepted.Status);
        Assert.Equal("channel", (string)accepted.Body["result"]!["chat"]!["type"]!);
        Assert.Equal(Channel, Assert.Single(fake.Messages).ChatId);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.Status);
        Assert.Equal("Bad Request: chat not found", (string)unknown.Body["description"]!);
    }
}
