using System.Text.Json;

using MimeKit;

using NewsBot.Delivery;
using NewsBot.Email;
using NewsBot.Subscribers;

namespace NewsBot.Tests.Delivery;

public sealed class OutboxChannelTests : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "newsbot-tests", Guid.NewGuid().ToString("n"), "outbox");

    private static EmailComposer Composer(string from) => new(new EmailOptions { From = from }, TimeProvider.System);

    public void Dispose()
    {
        if (Directory.Exists(Path.GetDirectoryName(_directory)))
        {
            Directory.Delete(Path.GetDirectoryName(_directory)!, recursive: true);
        }
    }

    [Fact]
    public async Task Email_IsAnRfc5322MessageWithTextAndHtmlParts()
    {
        var outbox = new OutboxChannel(Channels.Email, _directory, Composer("News Desk <desk@news.example>"), 500);

        var result = await outbox.SendAsync(new OutgoingMessage("send:7:sub:3:email", Channels.Email, "reader@example.org", "Sanctions widen", "<p>Sanctions <b>widen</b></p>", "Sanctions widen"), Ct);

        Assert.Equal(ChannelResult.Sent, result);
        var path = outbox.PathFor("send:7:sub:3:email");
        Assert.Equal("send_7_sub_3_email.eml", Path.GetFileName(path));
        var message = await MimeMessage.LoadAsync(path, Ct);
        Assert.Equal("desk@news.example", ((MailboxAddress)message.From.Single()).Address);
        Assert.Equal("reader@example.org", ((MailboxAddress)message.To.Single()).Address);
        Assert.Equal("Sanctions widen", message.Subject);
        Assert.Equal("send.7.sub.3.email@news.example", message.MessageId);
        var alternative = Assert.IsType<MultipartAlternative>(message.Body);
        Assert.Equal(["text/plain", "text/html"], alternative.Select(p => p.ContentType.MimeType));
        Assert.Equal("<p>Sanctions <b>widen</b></p>", message.HtmlBody?.Trim());
        Assert.Equal("Sanctions widen", message.TextBody?.Trim());
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Telegram_IsASendMessageBody()
    {
        var outbox = new OutboxChannel(Channels.Telegram, _directory, Composer("NewsBot <newsbot@localhost>"), 500);

        await outbox.SendAsync(new OutgoingMessage("send:7:sub:3:telegram", Channels.Telegram, "-1001234567890", "ignored", "<b>Sanctions</b> widen", null), Ct);

        using var json = JsonDocument.Parse(await File.ReadAllBytesAsync(outbox.PathFor("send:7:sub:3:telegram"), Ct));
        Assert.Equal(-1001234567890, json.RootElement.GetProperty("chat_id").GetInt64());
        Assert.Equal("<b>Sanctions</b> widen", json.RootElement.GetProperty("text").GetString());
        Assert.Equal("HTML", json.RootElement.GetProperty("parse_mode").GetString());
    }

    [Fact]
    public async Task ExistingFile_CountsAsSent_AndIsNotRewritten()
    {
        var outbox = new OutboxChannel(Channels.Telegram, _directory, Composer("NewsBot <newsbot@localhost>"), 500);
        await outbox.SendAsync(new OutgoingMessage("k:1", Channels.Telegram, "5", "", "first", null), Ct);

        var again = await outbox.SendAsync(new OutgoingMessage("k:1", Channels.Telegram, "5", "", "second", null), Ct);

        Assert.Equal(ChannelOutcome.Sent, again.Outcome);
        Assert.Contains("first", await File.ReadAllTextAsync(outbox.PathFor("k:1"), Ct), StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(_directory));
    }

    [Fact]
    public async Task BadAddress_FailsPermanentlyAndWritesNothing()
    {
        var email = new OutboxChannel(Channels.Email, _directory, Composer("NewsBot <newsbot@localhost>"), 500);
        var telegram = new OutboxChannel(Channels.Telegram, _directory, Composer("NewsBot <newsbot@localhost>"), 500);

        var badEmail = await email.SendAsync(new OutgoingMessage("k:1", Channels.Email, "not an address", "s", "b", "t"), Ct);
        var badChat = await telegram.SendAsync(new OutgoingMessage("k:2", Channels.Telegram, "@someone", "s", "b", null), Ct);

        Assert.Equal(ChannelOutcome.FailedPermanent, badEmail.Outcome);
        Assert.Contains("not an address", badEmail.Error, StringComparison.Ordinal);
        Assert.Equal(ChannelOutcome.FailedPermanent, badChat.Outcome);
        Assert.False(Directory.Exists(_directory));
    }
}
