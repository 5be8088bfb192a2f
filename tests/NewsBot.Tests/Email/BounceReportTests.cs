using MimeKit;

using NewsBot.Email;

namespace NewsBot.Tests.Email;

public sealed class BounceReportTests
{
    [Fact]
    public void Parse_PostfixDsnToVerpAddress_NamesTheLedgerRow()
    {
        // Written by Debian's postfix 3.7 (.ci/mail-servers) for a message from bounces+7-9@newsbot.test that its
        // error transport refused: the VERP address is in Delivered-To, To and X-Postfix-Sender.
        var report = BounceReport.Parse(MimeMessage.Load(TestPaths.Fixture("email/postfix-dsn-5.1.1.eml")));

        Assert.Equal(ReportType.DeliveryStatus, report.Type);
        Assert.Equal(new VerpAddress(7, 9), report.Reference);
        Assert.Equal("send.7.sub.9.email@newsbot.test", report.OriginalMessageId);
        var recipient = Assert.Single(report.Recipients);
        Assert.Equal(("alice@undeliverable.test", BounceKind.Hard, "5.1.1", "failed"), (recipient.Address, recipient.Kind, recipient.Status, recipient.Action));
        Assert.Equal("X-Postfix; mailbox unavailable (NewsBot test domain)", recipient.Diagnostic);
    }

    [Theory]
    [InlineData("failed", "5.1.1", BounceKind.Hard)]
    [InlineData("failed", "5.2.2", BounceKind.Soft)]
    [InlineData("failed", "4.4.7", BounceKind.Soft)]
    [InlineData("delayed", "4.4.1", BounceKind.Soft)]
    [InlineData("delayed", "5.0.0", BounceKind.Soft)]
    public void Parse_ActionAndStatus_GiveTheKind(string action, string status, BounceKind kind)
    {
        var report = BounceReport.Parse(BounceProcessorTests.Dsn("k@mx.example.net", "x@example.org", action, status));

        Assert.Equal(kind, Assert.Single(report.Recipients).Kind);
    }

    [Fact]
    public void Parse_ReportForwardedAsAnAttachment_IsStillRead()
    {
        var forward = new MimeMessage();
        forward.Subject = "Fwd: Delivery Status Notification";
        var body = new Multipart("mixed")
        {
            new TextPart("plain") { Text = "See the attached bounce." },
            new MessagePart { Message = BounceProcessorTests.Dsn("fwd@mx.example.net", "x@example.org", "failed", "5.1.1") },
        };
        forward.Body = body;

        var report = BounceReport.Parse(forward);

        Assert.Equal(ReportType.DeliveryStatus, report.Type);
        Assert.Equal("x@example.org", Assert.Single(report.Recipients).Address);
    }
}
