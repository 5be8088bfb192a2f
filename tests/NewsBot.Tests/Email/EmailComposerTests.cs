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

    public static TheoryData<bool, EncodingConstraint?> SpliceCases() => new()
    {
        // Not prepared: the outbox writes the message as composed.
        { false, null },
        { true, null },
        // What MailKit does for a relay with 8BITMIME (RFC 6152), with the SMTP line limit (RFC 5321 §4.5.3.1.6).
        { false, EncodingConstraint.EightBit },
        { true, EncodingConstraint.EightBit },
        // A relay without 8BITMIME, and the DKIM signer: quoted-printable for the non-ASCII body.
        { false, EncodingConstraint.SevenBit },
        { true, EncodingConstraint.SevenBit },
    };

    [Theory]
    [MemberData(nameof(SpliceCases))]
    public void Compose_SplicedFromTheSendsRenderedMessage_WritesTheBytesOfThePersonalisedStrings(bool nonAscii, EncodingConstraint? constraint)
    {
        var composer = new EmailComposer(new EmailOptions { From = "Sample News <news@news.example>", UnsubscribeMailto = "unsubscribe@news.example" },
            new ManualTime(new DateTimeOffset(2026, 11, 28, 21, 10, 0, TimeSpan.Zero)));
        var words = nonAscii ? "Grüße aus Köln, 東京 😀, naïve café" : "Greetings from Cologne";
        // One line longer than 998 octets: the 8BITMIME limit sends it quoted-printable.
        var html = RenderedMessage.FromStored("Weekly digest", $"<p>{words}</p>\n<p>{new string('x', 1200)}</p>\n" +
            $"<a href=\"{TemplateRenderer.PreferencesToken}\">Preferences</a> <a href=\"{TemplateRenderer.UnsubscribeToken}\">Unsubscribe</a>\n", MessageFormat.EmailHtml);
        var text = RenderedMessage.FromStored("Weekly digest", $"{words}\n\nPreferences: {TemplateRenderer.PreferencesToken}\nUnsubscribe: {TemplateRenderer.UnsubscribeToken}\n",
            MessageFormat.EmailText);
        var links = new SubscriberLinks("https://news.example/preferences?t=p7", "https://news.example/unsubscribe?t=u7&s=3");
        var to = new MailboxAddress("", "reader@example.org");

        using var spliced = composer.Compose(new OutgoingMessage("send:3:sub:7:email", "reader@example.org", html, text, links), to);
        using var strings = composer.Compose(new OutgoingMessage("send:3:sub:7:email", Channels.Email, "reader@example.org", "Weekly digest",
            html.Personalise(links), text.Personalise(links), links), to);
        // The multipart boundary is random per message.
        ((Multipart)strings.Body!).Boundary = ((Multipart)spliced.Body!).Boundary!;
        if (constraint is { } c)
        {
            spliced.Prepare(c, 998);
            strings.Prepare(c, 998);
        }

        var bytes = Write(spliced);
        Assert.Equal(Write(strings), bytes);
        using var parsed = MimeMessage.Load(new MemoryStream(bytes));
        Assert.Equal(text.Personalise(links), parsed.TextBody);
        Assert.Equal(html.Personalise(links), parsed.HtmlBody);
        Assert.Contains(links.UnsubscribeUrl.Replace("&", "&amp;", StringComparison.Ordinal), parsed.HtmlBody);
        Assert.Contains(words, parsed.TextBody);
        var parts = parsed.BodyParts.OfType<TextPart>().ToList();
        Assert.Equal(["plain", "html"], parts.Select(p => p.ContentType.MediaSubtype));
        Assert.All(parts, p => Assert.Equal("utf-8", p.ContentType.Charset));
        // MimeKit leaves a 7-bit part's Content-Transfer-Encoding unset (RFC 2045 §6.1: 7bit is the default).
        var expected = (constraint, nonAscii) switch
        {
            (EncodingConstraint.SevenBit, true) => ContentEncoding.QuotedPrintable,
            (EncodingConstraint.EightBit, true) => ContentEncoding.EightBit,
            _ => ContentEncoding.Default,
        };
        Assert.Equal(expected, parts[0].ContentTransferEncoding);
        Assert.Equal(constraint is null ? ContentEncoding.Default : ContentEncoding.QuotedPrintable, parts[1].ContentTransferEncoding);
    }

    private static byte[] Write(MimeMessage message)
    {
        // As the SMTP client writes it: CRLF line ends.
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        using var stream = new MemoryStream();
        message.WriteTo(format, stream);
        return stream.ToArray();
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
