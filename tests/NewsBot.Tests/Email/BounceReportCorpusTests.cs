using System.Text.Json;

using MimeKit;

using NewsBot.Email;

namespace NewsBot.Tests.Email;

/// <summary>Every report in the shared corpus classified as its file says (read by hand) or as its upstream answer says.</summary>
public sealed class BounceReportCorpusTests
{
    [SkippableFact]
    public void Parse_PostfixBounceThroughProofpoint_IsHardBounceOfTheRejectedRecipient()
    {
        // A postfix DSN whose per-recipient fields a filter re-encoded in base64; Status 5.1.1, "550 5.1.1 ... User unknown".
        var report = BounceReport.Parse(Load("mimekit-messages/bounce.txt"));

        Assert.Equal(ReportType.DeliveryStatus, report.Type);
        var recipient = Assert.Single(report.Recipients);
        Assert.Equal("netec.test@netecgc.com", recipient.Address);
        Assert.Equal(BounceKind.Hard, recipient.Kind);
        Assert.Equal("5.1.1", recipient.Status);
        Assert.Equal("failed", recipient.Action);
        Assert.Contains("550 5.1.1 <netec.test@netecgc.com>: Recipient address rejected: User unknown", recipient.Diagnostic);
        Assert.Equal("44565655.JitbitHelpdesk.13439.691a0afc-a0a0-457c-8208-f20b7c4a4cb1@jitbit.com", report.OriginalMessageId);
        Assert.Equal("20220126090648.12632412E9@hmail.jitbit.com", report.MessageId);
        Assert.Null(report.Reference);
    }

    [SkippableFact]
    public void Parse_1996DsnWithoutStatus_IsHardBounceByActionAndReplyCode()
    {
        // "Action: failed" and "Diagnostic-Code: X-LOCAL; 500 (err.nosuchuser)", no Status field.
        var report = BounceReport.Parse(Load("mimekit-messages/delivery-status.txt"));

        Assert.Equal(ReportType.DeliveryStatus, report.Type);
        var recipient = Assert.Single(report.Recipients);
        Assert.Equal("newsletter-request@imusic.com", recipient.Address);
        Assert.Equal(BounceKind.Hard, recipient.Kind);
        Assert.Null(recipient.Status);
        Assert.Equal("X-LOCAL; 500 (err.nosuchuser)", recipient.Diagnostic);
        Assert.Equal("31FC7EB4.41C6@netscape.com", report.OriginalMessageId);
    }

    [SkippableFact]
    public void Parse_FeedbackReportWithByteOrderMark_IsComplaintAboutOriginalRcptTo()
    {
        var report = BounceReport.Parse(Load("mimekit-messages/feedback-report.txt"));

        Assert.Equal(ReportType.FeedbackReport, report.Type);
        Assert.Equal("abuse", report.FeedbackType);
        var recipient = Assert.Single(report.Recipients);
        Assert.Equal("user@example.com", recipient.Address);
        Assert.Equal(BounceKind.Complaint, recipient.Kind);
        Assert.Equal("8787KJKJ3K4J3K4J3K4J3.mail@example.net", report.OriginalMessageId);
    }

    /// <summary>
    /// mail-auth's answers (NNN.json): feedback_type and original_rcpt_to. Where a report has no Original-Rcpt-To,
    /// the recipient is the returned message's To, read from the file: none in 001 ("&lt;Undisclosed Recipients&gt;").
    /// </summary>
    [SkippableTheory]
    [InlineData("001", null)]
    [InlineData("002", null)]
    [InlineData("003", null)]
    [InlineData("004", "address@myotherdomain.name")]
    [InlineData("005", "someuser@receiver.example")]
    public void Parse_MailAuthArfReport_MatchesUpstreamAnswer(string name, string? returnedTo)
    {
        using var answer = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.RequireCorpus("email/mail-auth-arf"), name + ".json")));
        var feedbackType = answer.RootElement.GetProperty("feedback_type").GetString();
        var rcptTo = answer.RootElement.GetProperty("original_rcpt_to").GetString()?.Trim('<', '>');

        var report = BounceReport.Parse(Load($"mail-auth-arf/{name}.eml"));

        Assert.Equal(ReportType.FeedbackReport, report.Type);
        // mail-auth's enum names: Abuse, AuthFailure, ... for abuse, auth-failure (RFC 5965 §7.3, RFC 6591 §3).
        Assert.Equal(feedbackType, report.FeedbackType switch { "abuse" => "Abuse", "auth-failure" => "AuthFailure", var other => other });
        var recipient = Assert.Single(report.Recipients);
        Assert.Equal(rcptTo ?? returnedTo, recipient.Address);
        Assert.Equal(feedbackType == "Abuse" ? BounceKind.Complaint : BounceKind.Other, recipient.Kind);
    }

    [SkippableTheory]
    [InlineData("mimekit-messages/japanese.txt")]
    [InlineData("mimekit-messages/simple-multipart.eml")]
    [InlineData("mimekit-messages/gnupg-announce-list-mail.eml")]
    [InlineData("mimekit-messages/epilogue.txt")]
    [InlineData("mimekit-messages/multipart-related-mhtml.txt")]
    public void Parse_MessageThatIsNoReport_HasNoRecipients(string file)
    {
        var report = BounceReport.Parse(Load(file));

        Assert.Equal(ReportType.None, report.Type);
        Assert.Empty(report.Recipients);
    }

    private static MimeMessage Load(string relative) => MimeMessage.Load(Path.Combine(TestPaths.RequireCorpus("email"), relative));
}
