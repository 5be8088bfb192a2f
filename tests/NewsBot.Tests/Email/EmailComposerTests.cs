using System.Runtime.CompilerServices;

using MimeKit;

using NewsBot.Delivery;
using NewsBot.Email;
using NewsBot.Subscribers;
using NewsBot.Templates;

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

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference ComposeAndForget(EmailComposer composer)
    {
        var links = new SubscriberLinks("https://news.example/preferences?s=1", "https://news.example/unsubscribe?s=1");
        var email = composer.Compose(new OutgoingMessage("send:1:sub:1:email", Channels.Email, "reader@example.org", "Subject", "<p>Body</p>", "Body", links),
            new MailboxAddress("", "reader@example.org"));
        return new WeakReference(email);
    }
}
