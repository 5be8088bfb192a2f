using System.Text.Json;
using System.Text.RegularExpressions;

using MimeKit;

using NewsBot.Delivery;
using NewsBot.Email;
using NewsBot.Subscribers;
using NewsBot.Templates;

namespace NewsBot.Tests.Email;

/// <summary>
/// Our List-Unsubscribe headers read the way a mailbox provider reads them. The reading (RFC 2369 §3.2, RFC 8058 §3.1)
/// is first checked against the corpus' RFC cases, then applied to what <see cref="EmailComposer"/> writes.
/// </summary>
public sealed partial class ListUnsubscribeTests
{
    [SkippableFact]
    public void TheReading_AgreesWithEveryCorpusCase()
    {
        var path = TestPaths.RequireCorpus("email/rfc8058/list-unsubscribe-cases.json");
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var cases = json.RootElement.GetProperty("cases").EnumerateArray().ToList();

        Assert.Equal(7, cases.Count);
        foreach (var c in cases)
        {
            var id = c.GetProperty("id").GetString();
            var post = c.GetProperty("list_unsubscribe_post").ValueKind == JsonValueKind.Null ? null : c.GetProperty("list_unsubscribe_post").GetString();
            var read = Read(c.GetProperty("list_unsubscribe").GetString()!, post);
            var expect = c.GetProperty("expect");
            Assert.True(Strings(expect, "https_uris").SequenceEqual(read.Https), $"{id}: https {string.Join(" ", read.Https)}");
            Assert.True(Strings(expect, "mailto_uris").SequenceEqual(read.Mailto), $"{id}: mailto {string.Join(" ", read.Mailto)}");
            if (expect.TryGetProperty("http_uris", out _))
            {
                Assert.True(Strings(expect, "http_uris").SequenceEqual(read.Http), $"{id}: http {string.Join(" ", read.Http)}");
            }

            Assert.True(expect.GetProperty("one_click").GetBoolean() == read.OneClick, $"{id}: one-click {read.OneClick}");
        }
    }

    [Fact]
    public void OurHeaders_OfferOneClickOverHttps_AndTheMailto()
    {
        var composer = Composer(unsubscribeMailto: "unsubscribe@news.example");
        const string url = "https://news.example/unsubscribe?t=abc.DEF-123_x";

        var message = Reparse(composer.Compose(Message(url), new MailboxAddress("", "reader@example.org")));

        var read = Read(message.Headers[HeaderId.ListUnsubscribe]!, message.Headers[HeaderId.ListUnsubscribePost]);
        Assert.Equal([url], read.Https);
        Assert.Equal(["mailto:unsubscribe@news.example?subject=unsubscribe"], read.Mailto);
        Assert.True(read.OneClick);
        Assert.Single(message.Headers, h => h.Id == HeaderId.ListUnsubscribe);
    }

    [Fact]
    public void AnHttpLink_IsListedButNotOneClick()
    {
        // RFC 8058 §3.1: one-click needs an HTTPS URI; a development site on plain http gets no List-Unsubscribe-Post.
        var message = Reparse(Composer().Compose(Message("http://localhost:5080/unsubscribe?s=1"), new MailboxAddress("", "reader@example.org")));

        var read = Read(message.Headers[HeaderId.ListUnsubscribe]!, message.Headers[HeaderId.ListUnsubscribePost]);
        Assert.Equal(["http://localhost:5080/unsubscribe?s=1"], read.Http);
        Assert.Null(message.Headers[HeaderId.ListUnsubscribePost]);
        Assert.False(read.OneClick);
    }

    [Fact]
    public void AUrlWithAngleBracketsOrSpaces_CannotEndTheUriEarly()
    {
        var message = Reparse(Composer().Compose(Message("https://news.example/unsubscribe?t=a>b c,<mailto:x@evil.example>"), new MailboxAddress("", "reader@example.org")));

        var read = Read(message.Headers[HeaderId.ListUnsubscribe]!, message.Headers[HeaderId.ListUnsubscribePost]);
        Assert.Equal(["https://news.example/unsubscribe?t=a%3Eb%20c,%3Cmailto:x@evil.example%3E"], read.Https);
        Assert.Empty(read.Mailto);
    }

    /// <summary>RFC 2369 §3.2: angle-bracketed URIs separated by commas; RFC 5322 comments are skipped.</summary>
    private static (List<string> Https, List<string> Http, List<string> Mailto, bool OneClick) Read(string header, string? post)
    {
        var withoutComments = Comment().Replace(header, "");
        var uris = AngleBracketed().Matches(withoutComments).Select(m => m.Groups[1].Value.Trim()).ToList();
        var https = uris.Where(u => u.StartsWith("https:", StringComparison.OrdinalIgnoreCase)).ToList();
        var http = uris.Where(u => u.StartsWith("http:", StringComparison.OrdinalIgnoreCase)).ToList();
        var mailto = uris.Where(u => u.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase)).ToList();
        // RFC 8058 §3.1: exactly "List-Unsubscribe=One-Click", and at least one HTTPS URI.
        return (https, http, mailto, post?.Trim() == "List-Unsubscribe=One-Click" && https.Count > 0);
    }

    [GeneratedRegex(@"\([^()]*\)")]
    private static partial Regex Comment();

    [GeneratedRegex(@"<([^>]*)>")]
    private static partial Regex AngleBracketed();

    private static IEnumerable<string> Strings(JsonElement expect, string name) =>
        expect.GetProperty(name).EnumerateArray().Select(e => e.GetString()!);

    private static EmailComposer Composer(string? unsubscribeMailto = null) =>
        new(new EmailOptions { From = "News Desk <desk@news.example>", UnsubscribeMailto = unsubscribeMailto }, TimeProvider.System);

    private static OutgoingMessage Message(string unsubscribeUrl) =>
        new("send:1:sub:2:email", Channels.Email, "reader@example.org", "Subject", "<p>Body</p>", "Body",
            new SubscriberLinks("https://news.example/preferences?s=2", unsubscribeUrl));

    /// <summary>Written to bytes and read back: what a receiver parses, folding included.</summary>
    private static MimeMessage Reparse(MimeMessage message)
    {
        using var buffer = new MemoryStream();
        message.WriteTo(buffer);
        buffer.Position = 0;
        return MimeMessage.Load(buffer);
    }
}
