using System.Net;
using System.Text;

using NewsBot.Feeds;
using NewsBot.Tests.Admin;

namespace NewsBot.Tests.Telegram;

/// <summary>Webhook mode: the service registers its URL with setWebhook and answers updates Telegram posts to it.</summary>
public sealed class TelegramWebhookTests : IAsyncLifetime
{
    private const string PublicUrl = "https://bot.example.org/telegram/webhook";
    private const string Secret = "webhook-secret_0123456789";

    private FakeBotApi fake = null!;
    private ServiceUnderTest service = null!;

    public async Task InitializeAsync()
    {
        fake = await FakeBotApi.StartAsync();
        service = await ServiceUnderTest.StartAsync(
            ("NewsBot:Telegram:BotToken", FakeBotApi.DefaultToken),
            ("NewsBot:Telegram:ApiBaseUrl", fake.BaseUrl),
            ("NewsBot:Telegram:WebhookUrl", PublicUrl),
            ("NewsBot:Telegram:WebhookSecret", Secret));
        await service.Services.GetRequiredService<FeedRefresher>().RefreshFeedAsync("sample", force: true, null, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await service.DisposeAsync();
        await fake.DisposeAsync();
    }

    private static StringContent Update(long chatId, string text) => new($$$"""
        {"update_id": 10, "message": {"message_id": 1, "date": 1767225600,
         "chat": {"id": {{{chatId}}}, "type": "private"}, "from": {"id": {{{chatId}}}, "is_bot": false, "first_name": "Reader"},
         "text": "{{{text}}}"}}
        """, Encoding.UTF8, "application/json");

    private async Task<HttpResponseMessage> PostAsync(string? secret, long chatId, string text)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/telegram/webhook") { Content = Update(chatId, text) };
        if (secret is not null)
        {
            request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", secret);
        }

        return await service.Http.SendAsync(request);
    }

    [Fact]
    public async Task TheWebhookIsRegisteredAndOnlyTelegramsSecretIsAnswered()
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(20); fake.WebhookUrl is null && DateTime.UtcNow < deadline; await Task.Delay(50))
        {
        }

        var none = await PostAsync(null, 901, "/latest 2");
        var wrong = await PostAsync("not-the-secret", 901, "/latest 2");
        var right = await PostAsync(Secret, 902, "/latest 2");

        Assert.Equal(PublicUrl, fake.WebhookUrl);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.DoesNotContain(fake.Messages, m => m.ChatId == 901);
        var reply = Assert.Single(fake.Messages, m => m.ChatId == 902);
        Assert.Equal(2, reply.Text.Split("<a href=", StringSplitOptions.None).Length - 1);
    }
}
