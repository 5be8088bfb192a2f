using System.Runtime.CompilerServices;

using MimeKit;

using NewsBot.Delivery;
using NewsBot.Email;
using NewsBot.Subscribers;
using NewsBot.Templates;
using NewsBot.Tests.Posts;

namespace NewsBot.Tests.Email;

public sealed class EmailComposerTests
{
    [Fact]
    public void AComposedMessage_IsNotKeptAliveByTheComposer()
    {
        // MimeKit address lists subscribe to their addresses' events: a From shared between messages kept every
        // message of a send alive (the email benchmark grew by 36 KB per message).
        var composer = new EmailComposer(new EmailOptions { From = "News Desk <desk@news.example>", ReplyTo = "editor@news.example" }, TimeProvider.System);

        var message = ComposeAndForget(composer);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(message.IsAlive);
    }

    [Fact]
    public void WithoutVerp_TheEnvelopeSenderIsTheFromAddress()
    {
        var composer = new EmailComposer(new EmailOptions { From = "News Desk <desk@news.example>" }, TimeProvider.System);

        Assert.Equal("desk@news.example", composer.EnvelopeSender("send:1:sub:2:email").Address);
        Assert.False(VerpAddress.TryParse("desk@news.example", out _));
    }

    [Theory]
    [InlineData("reader@example.org", true)]
    [InlineData("Reader <reader@example.org>", false)]
    [InlineData("reader", false)]
    [InlineData("not an address", false)]
    public void ParseRecipient_TakesOnlyABareAddress(string address, bool valid)
    {
        Assert.Equal(valid, EmailComposer.ParseRecipient(address) is not null);
    }

    [Theory]
    [InlineData("News Desk <desk@news.example>", "editor@news.example", "Weekly digest: 10 posts")]
    [InlineData("Rédaction Été <desk@news.example>", null, "Résumé de la semaine,\r\nsur deux lignes — très long sujet qui dépasse la largeur d'une ligne d'en-tête de courriel")]
    public void Compose_WritesWhatMimeKitWritesForTheSameMessage(string from, string? replyTo, string subject)
    {
        // The composer builds shared headers once and skips MimeMessage()'s defaults; the bytes must be the ones
        // MimeKit writes for the message built the plain way.
        var at = new DateTimeOffset(2026, 11, 28, 20, 30, 15, TimeSpan.Zero);
        var composer = new EmailComposer(new EmailOptions { From = from, ReplyTo = replyTo, UnsubscribeMailto = "unsubscribe@news.example" }, new ManualTime(at));
        var links = new SubscriberLinks("https://news.example/preferences?s=7", "https://news.example/unsubscribe?s=7&t=a b");
        var message = new OutgoingMessage("send:3:sub:7:email", Channels.Email, "reader@example.org", subject, "<p>Grüße, <a href=\"x\">lien</a></p>", "Grüße\nlien", links);

        using var composed = composer.Compose(message, new MailboxAddress("", "reader@example.org"));

        using var expected = new MimeMessage();
        expected.From.Add(MailboxAddress.Parse(from));
        if (replyTo is not null)
        {
            expected.ReplyTo.Add(MailboxAddress.Parse(replyTo));
        }

        expected.To.Add(new MailboxAddress("", "reader@example.org"));
        expected.Subject = subject.ReplaceLineEndings(" ");
        expected.Date = at;
        expected.MessageId = "send.3.sub.7.email@news.example";
        expected.Headers.Add(HeaderId.ListId, "<newsbot.news.example>");
        expected.Headers.Add(HeaderId.ListUnsubscribe, "<https://news.example/unsubscribe?s=7&t=a%20b>, <mailto:unsubscribe@news.example?subject=unsubscribe>");
        expected.Headers.Add(HeaderId.ListUnsubscribePost, EmailComposer.OneClick);
        expected.Body = new BodyBuilder { TextBody = message.TextBody, HtmlBody = message.Body }.ToMessageBody();
        // The multipart boundary is random per message.
        ((Multipart)expected.Body!).Boundary = ((Multipart)composed.Body!).Boundary!;

        Assert.Equal(Format(expected), Format(composed));
        Assert.Equal(subject.ReplaceLineEndings(" "), composed.Subject);
        Assert.Equal(at, composed.Date);
        Assert.Equal(MailboxAddress.Parse(from).Name, composed.From.Mailboxes.Single().Name);
    }

    private static string Format(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference ComposeAndForget(EmailComposer composer)
    {
        var links = new SubscriberLinks("https://news.example/preferences?s=1", "https://news.example/unsubscribe?s=1");
        var email = composer.Compose(new OutgoingMessage("send:1:sub:1:email", Channels.Email, "reader@example.org", "Subject", "<p>Body</p>", "Body", links),
            new MailboxAddress("", "reader@example.org"));
        return new WeakReference(email);
    }
}
