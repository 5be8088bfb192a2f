using MimeKit;

using NewsBot.Delivery;
using NewsBot.Email;
using NewsBot.Subscribers;

namespace NewsBot.Tests.Email;

public sealed class VerpAddressTests
{
    [Fact]
    public void Format_ThenTryParse_GivesTheSameRow()
    {
        var verp = new VerpAddress(12, 3456789012);

        var address = verp.Format("bounce@news.example.org");

        Assert.Equal("bounce+12-3456789012@news.example.org", address);
        Assert.True(VerpAddress.TryParse(address, out var parsed));
        Assert.Equal(verp, parsed);
        Assert.True(VerpAddress.TryParse("<" + address.ToUpperInvariant() + ">", out var bracketed));
        Assert.Equal(verp, bracketed);
        Assert.Equal("send:12:sub:3456789012:email", parsed.IdempotencyKey);
    }

    [Theory]
    [InlineData("bounce@example.org")]
    [InlineData("bounce+12@example.org")]
    [InlineData("bounce+12-x@example.org")]
    [InlineData("bounce+-12-3@example.org")]
    [InlineData("bounce+12-3")]
    [InlineData("bounce+12-3@a@b")]
    [InlineData("")]
    [InlineData(null)]
    public void TryParse_NotAVerpAddress_IsFalse(string? address)
    {
        Assert.False(VerpAddress.TryParse(address, out _));
    }

    [Theory]
    [InlineData("bounce")]
    [InlineData("@example.org")]
    [InlineData("bounce@")]
    [InlineData("bounce+x@example.org")]
    [InlineData("bounce @example.org")]
    public void Format_ReturnPathThatIsNoPlainAddress_SaysWhatIsWrong(string returnPath)
    {
        var error = Assert.Throws<ArgumentException>(() => new VerpAddress(1, 2).Format(returnPath));

        Assert.Contains($"'{returnPath}'", error.Message);
    }

    [Fact]
    public async Task TryParseMessageId_TheOutboxMessageId_NamesItsLedgerRow()
    {
        var directory = Path.Combine(Path.GetTempPath(), "newsbot-tests", Guid.NewGuid().ToString("n"));
        try
        {
            var outbox = new OutboxChannel(Channels.Email, directory, new EmailComposer(new EmailOptions { From = "NewsBot <news@blog.example>" }, TimeProvider.System), 500);
            var key = DeliveryStore.IdempotencyKey(41, 7, Channels.Email);
            await outbox.SendAsync(new OutgoingMessage(key, Channels.Email, "reader@example.org", "Subject", "<p>Hi</p>", "Hi"), CancellationToken.None);
            var written = await MimeMessage.LoadAsync(outbox.PathFor(key));

            Assert.True(VerpAddress.TryParseMessageId(written.MessageId, out var verp));
            Assert.Equal(new VerpAddress(41, 7), verp);
            Assert.Equal(key, verp.IdempotencyKey);
            Assert.True(VerpAddress.TryParseMessageId("<" + written.MessageId + ">", out _));
            Assert.False(VerpAddress.TryParseMessageId("send.41.sub.7.telegram@blog.example", out _));
            Assert.False(VerpAddress.TryParseMessageId("31FC7EB4.41C6@netscape.com", out _));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
