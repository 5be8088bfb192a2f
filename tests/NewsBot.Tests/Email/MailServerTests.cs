using MailKit;
using MailKit.Search;

using Microsoft.Extensions.DependencyInjection;

using MimeKit;

using NewsBot.Delivery;
using NewsBot.Email;
using NewsBot.Subscribers;
using NewsBot.Tests.Delivery;

namespace NewsBot.Tests.Email;

/// <summary>Through Debian's postfix and dovecot (see <see cref="MailServers"/>).</summary>
public sealed class MailServerTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(60);

    [SkippableFact]
    public async Task SendThroughPostfix_ReadBackOverImap_KeepsPartsAndHeaders()
    {
        var servers = MailServers.Require();
        var messageId = $"it-{Guid.NewGuid():n}@{servers.Domain}";
        var verp = new VerpAddress(5, 6).Format(servers.Bounces);
        var sent = new MimeMessage();
        sent.From.Add(new MailboxAddress("NewsBot", "news@" + servers.Domain));
        sent.To.Add(MailboxAddress.Parse(servers.Reader));
        sent.Subject = "Today's posts: sanctions <&> ünïcödé ✓";
        sent.MessageId = messageId;
        sent.Headers.Add("List-Unsubscribe", "<https://news.example/unsubscribe?t=abc>, <mailto:unsubscribe@news.example?subject=abc>");
        sent.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        sent.Body = new BodyBuilder
        {
            TextBody = "Sanctions update\nhttps://blog.example/sanctions\n",
            HtmlBody = "<p><a href=\"https://blog.example/sanctions\">Sanctions update</a></p>",
        }.ToMessageBody();

        using (var smtp = await servers.ConnectSmtpAsync(Ct))
        {
            await smtp.SendAsync(sent, MailboxAddress.Parse(verp), [MailboxAddress.Parse(servers.Reader)], Ct);
            await smtp.DisconnectAsync(quit: true, Ct);
        }

        var received = await servers.WaitForMessageAsync(servers.Reader, SearchQuery.HeaderContains("Message-ID", messageId), DeliveryTimeout, Ct);

        Assert.Equal(sent.Subject, received.Subject);
        Assert.Equal(messageId, received.MessageId);
        Assert.Equal(sent.Headers["List-Unsubscribe"], received.Headers["List-Unsubscribe"]);
        Assert.Equal("List-Unsubscribe=One-Click", received.Headers["List-Unsubscribe-Post"]);
        var alternative = Assert.IsType<MultipartAlternative>(received.Body);
        Assert.Equal(["text/plain", "text/html"], alternative.Select(p => p.ContentType.MimeType));
        Assert.Equal("Sanctions update\nhttps://blog.example/sanctions\n", received.TextBody?.ReplaceLineEndings("\n"));
        Assert.Contains("<a href=\"https://blog.example/sanctions\">", received.HtmlBody);
        // Postfix's virtual(8) writes the envelope sender as Return-Path: the VERP address comes back intact.
        Assert.Equal($"<{verp}>", received.Headers[HeaderId.ReturnPath]);
        Assert.True(VerpAddress.TryParse(received.Headers[HeaderId.ReturnPath], out var back));
        Assert.Equal(new VerpAddress(5, 6), back);
    }

    [SkippableFact]
    public async Task DigestThroughTheEmailChannelAndPostfix_ReadBackOverImap_HasItsPartsHeadersLinksAndAValidDkimSignature()
    {
        var servers = MailServers.Require();
        // Each harness starts its ledger at send 1, so the Message-ID alone may match an earlier run's mail in the
        // mailbox: the site name in the subject makes this run's digest unique.
        var site = $"Sample News {Guid.NewGuid():n}";
        using var harness = await DeliveryHarness.CreateAsync(
            ("NewsBot:Email:From", $"Sample News <news@{servers.Domain}>"),
            ("NewsBot:Email:Smtp:Host", servers.SmtpHost),
            ("NewsBot:Email:Smtp:Port", servers.SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("NewsBot:Email:Smtp:Security", "None"),
            ("NewsBot:Email:Dkim:Domain", servers.Domain),
            ("NewsBot:Email:Dkim:Selector", "nb2026"),
            ("NewsBot:Email:Dkim:PrivateKeyPath", TestPaths.Fixture("email/dkim-rsa.pem")),
            ("NewsBot:Email:Verp:Enabled", "true"),
            ("NewsBot:Email:Verp:LocalPart", "bounces"),
            ("NewsBot:Templates:PublicBaseUrl", "https://news.example"),
            ("NewsBot:Templates:SiteName", site));
        await harness.SeedAsync(new NewSubscriber(servers.Reader, null, ["sanctions"], Cadence.Daily));
        await harness.AddPostAsync("sanctions-1", ["sanctions"], DateTimeOffset.UtcNow.AddHours(-3), "Sanctions widen: <fines> & “€100m”");
        await harness.AddPostAsync("sanctions-2", ["sanctions"], DateTimeOffset.UtcNow.AddHours(-2), "Tankers wait at the strait");
        var plan = await harness.Planner.PlanAsync(new SendRequest("digest", null, Cadence.Daily, [Channels.Email], null, false), Ct);
        var sendId = plan.SendId!.Value;

        Assert.Equal(0, await harness.RunDispatchesAsync());

        var subscriberId = await harness.CountAsync($"SELECT subscriber_id FROM deliveries WHERE send_id = {sendId}");
        var messageId = $"send.{sendId}.sub.{subscriberId}.email@{servers.Domain}";
        var received = await servers.WaitForMessageAsync(servers.Reader, SearchQuery.SubjectContains(site), DeliveryTimeout, Ct);

        Assert.Equal(messageId, received.MessageId);
        var alternative = Assert.IsType<MultipartAlternative>(received.Body);
        Assert.Equal(["text/plain", "text/html"], alternative.Select(p => p.ContentType.MimeType));
        Assert.Contains("Sanctions widen: &lt;fines&gt; &amp; “€100m”", received.HtmlBody);
        Assert.Contains("Tankers wait at the strait", received.TextBody);
        Assert.Equal($"news@{servers.Domain}", received.From.Mailboxes.Single().Address);
        Assert.Equal("List-Unsubscribe=One-Click", received.Headers[HeaderId.ListUnsubscribePost]);
        var unsubscribe = System.Text.RegularExpressions.Regex.Match(received.Headers[HeaderId.ListUnsubscribe] ?? "", "<(https://news\\.example/unsubscribe\\?t=[^>]+)>");
        Assert.True(unsubscribe.Success, received.Headers[HeaderId.ListUnsubscribe]);
        // The header's one-click link is the one the body shows, and it is this subscriber's signed link.
        Assert.Contains(unsubscribe.Groups[1].Value, received.TextBody);
        var tokens = harness.Services.GetRequiredService<SubscriptionTokens>();
        Assert.Equal(TokenProblem.None, tokens.Verify(unsubscribe.Groups[1].Value.Split("?t=")[1], TokenPurpose.Unsubscribe, out var token));
        Assert.Equal(subscriberId, token!.SubscriberId);
        // VERP: postfix writes the envelope sender as Return-Path, and it names this ledger row.
        Assert.True(VerpAddress.TryParse(received.Headers[HeaderId.ReturnPath], out var verp), received.Headers[HeaderId.ReturnPath]);
        Assert.Equal(new VerpAddress(sendId, subscriberId), verp);
        // DKIM through NewsBot's own verifier path, with the test key's DNS record, after a real relay's hop.
        var check = new DkimCheck(
            new DkimKeyRecords([new(DkimKeyRecords.RecordName("nb2026", servers.Domain), File.ReadAllText(TestPaths.Fixture("email/dkim-rsa.txt")).Trim())]),
            TimeProvider.System);
        var result = Assert.Single(await check.VerifyAsync(received, Ct));
        Assert.True(result.Pass, result.Failure);
        Assert.Equal((servers.Domain, "nb2026", "rsa-sha256"), (result.Domain, result.Selector, result.Algorithm));
    }

    [SkippableFact]
    public async Task PostfixDsnInBounceMailbox_PickedUpByTheJob_SuppressesItsAddress()
    {
        var servers = MailServers.Require();
        using var harness = await DeliveryHarness.CreateAsync(servers.BounceMailboxSettings());
        await MarkAllSeenAsync(servers);
        var address = $"gone-{Guid.NewGuid():n}@{servers.UndeliverableDomain}";
        var subscriberId = await harness.Subscribers.AddAsync(new NewSubscriber(address, null, [], Cadence.Instant), Ct);
        var sendId = await harness.AddEmailSendAsync(subscriberId, address);

        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("NewsBot", "news@" + servers.Domain));
        message.To.Add(MailboxAddress.Parse(address));
        message.Subject = "A post";
        message.MessageId = $"send.{sendId}.sub.{subscriberId}.email@{servers.Domain}";
        message.Body = new TextPart("plain") { Text = "Hello" };
        using (var smtp = await servers.ConnectSmtpAsync(Ct))
        {
            // Postfix accepts it (250), then its error transport bounces it to the VERP envelope sender.
            await smtp.SendAsync(message, MailboxAddress.Parse(new VerpAddress(sendId, subscriberId).Format(servers.Bounces)), [MailboxAddress.Parse(address)], Ct);
            await smtp.DisconnectAsync(quit: true, Ct);
        }

        var job = harness.Services.GetRequiredService<BounceMailboxJob>();
        var deadline = DateTime.UtcNow + DeliveryTimeout;
        BouncePoll first;
        do
        {
            Assert.True(DateTime.UtcNow < deadline, $"no DSN for {address} reached {servers.Bounces} within {DeliveryTimeout.TotalSeconds:0} s");
            await Task.Delay(250, Ct);
            first = await job.PollBounceMailboxAsync(Ct);
        }
        while ((await harness.Subscribers.FindSuppressedAsync(Channels.Email, [address], Ct)).Count == 0);

        Assert.Equal(1, first.Hard);
        Assert.Equal(1, first.Suppressed);
        var stored = await harness.Subscribers.GetAsync(subscriberId, Ct);
        Assert.Equal(ChannelStatus.Bounced, stored!.Channels.Single().Status);
        var bounce = Assert.Single(await harness.Services.GetRequiredService<BounceStore>().ListRecentAsync(10, address, null, Ct));
        Assert.Equal((BounceKind.Hard, "5.1.1", "failed", sendId, subscriberId), (bounce.Kind, bounce.Status, bounce.Action, bounce.SendId, bounce.SubscriberId));
        Assert.StartsWith("message-id:", bounce.ReportKey);

        // Re-entrant: the same report unseen again (a run cut off before flagging it) is read but counts nothing.
        using (var imap = await servers.ConnectImapAsync(servers.Bounces, Ct))
        {
            await imap.Inbox.OpenAsync(FolderAccess.ReadWrite, Ct);
            var dsn = await imap.Inbox.SearchAsync(SearchQuery.BodyContains(address), Ct);
            Assert.Single(dsn);
            await imap.Inbox.RemoveFlagsAsync(dsn, MessageFlags.Seen, silent: true, Ct);
            await imap.DisconnectAsync(quit: true, Ct);
        }

        var again = await job.PollBounceMailboxAsync(Ct);

        Assert.Equal((1, 1, 0, 0), (again.Read, again.Repeated, again.Hard, again.Suppressed));
        Assert.Single(await harness.Services.GetRequiredService<BounceStore>().ListRecentAsync(10, address, null, Ct));
    }

    [SkippableFact]
    public async Task MessageThatIsNoReport_IsMovedToTheProcessedFolderAndChangesNothing()
    {
        var servers = MailServers.Require();
        using var harness = await DeliveryHarness.CreateAsync([.. servers.BounceMailboxSettings(), ("NewsBot:Email:Bounces:ProcessedFolder", "Processed")]);
        await MarkAllSeenAsync(servers);
        using (var imap = await servers.ConnectImapAsync(servers.Bounces, Ct))
        {
            var folders = await imap.GetFoldersAsync(imap.PersonalNamespaces[0], cancellationToken: Ct);
            if (!folders.Any(f => f.Name == "Processed"))
            {
                await imap.GetFolder(imap.PersonalNamespaces[0]).CreateAsync("Processed", isMessageFolder: true, Ct);
            }

            await imap.DisconnectAsync(quit: true, Ct);
        }

        var messageId = $"ooo-{Guid.NewGuid():n}@{servers.Domain}";
        var reply = new MimeMessage();
        reply.From.Add(MailboxAddress.Parse(servers.Reader));
        reply.To.Add(MailboxAddress.Parse(servers.Bounces));
        reply.Subject = "Out of office";
        reply.MessageId = messageId;
        // RFC 3834 §5: an automatic reply, the commonest thing in a bounce mailbox that is no report.
        reply.Headers.Add("Auto-Submitted", "auto-replied");
        reply.Body = new TextPart("plain") { Text = "Back on Monday." };
        using (var smtp = await servers.ConnectSmtpAsync(Ct))
        {
            await smtp.SendAsync(reply, Ct);
            await smtp.DisconnectAsync(quit: true, Ct);
        }

        await servers.WaitForMessageAsync(servers.Bounces, SearchQuery.HeaderContains("Message-ID", messageId), DeliveryTimeout, Ct);

        var poll = await harness.Services.GetRequiredService<BounceMailboxJob>().PollBounceMailboxAsync(Ct);

        Assert.Equal((1, 1, 0, 0), (poll.Read, poll.NotReports, poll.Hard, poll.Suppressed));
        Assert.Empty(await harness.Services.GetRequiredService<BounceStore>().ListRecentAsync(10, null, null, Ct));
        using var check = await servers.ConnectImapAsync(servers.Bounces, Ct);
        await check.Inbox.OpenAsync(FolderAccess.ReadOnly, Ct);
        Assert.Empty(await check.Inbox.SearchAsync(SearchQuery.HeaderContains("Message-ID", messageId), Ct));
        var processed = await check.GetFolderAsync("Processed", Ct);
        await processed.OpenAsync(FolderAccess.ReadOnly, Ct);
        Assert.Single(await processed.SearchAsync(SearchQuery.HeaderContains("Message-ID", messageId).And(SearchQuery.Seen), Ct));
    }

    /// <summary>Reports left unseen by earlier runs would be read into this test's fresh database.</summary>
    private static async Task MarkAllSeenAsync(MailServers servers)
    {
        using var imap = await servers.ConnectImapAsync(servers.Bounces, Ct);
        await imap.Inbox.OpenAsync(FolderAccess.ReadWrite, Ct);
        var unseen = await imap.Inbox.SearchAsync(SearchQuery.NotSeen, Ct);
        if (unseen.Count > 0)
        {
            await imap.Inbox.AddFlagsAsync(unseen, MessageFlags.Seen, silent: true, Ct);
        }

        await imap.DisconnectAsync(quit: true, Ct);
    }
}
