using System.Globalization;
using System.Text;

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

using MimeKit;

using NewsBot.Delivery;
using NewsBot.Email;
using NewsBot.Storage;
using NewsBot.Subscribers;
using NewsBot.Tests.Delivery;
using NewsBot.Tests.Posts;

namespace NewsBot.Tests.Email;

public abstract class BounceProcessorTests(string provider) : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private DeliveryHarness? _harness;

    public void Dispose() => _harness?.Dispose();

    [SkippableFact]
    public async Task ProcessReportAsync_HardBounceOfSubscriber_SuppressesAndMarksBounced()
    {
        var (processor, store) = await CreateAsync();
        var id = await _harness!.Subscribers.AddAsync(Subscriber("netec.test@netecgc.com"), Ct);

        var outcome = await processor.ProcessReportAsync(LoadCorpus("mimekit-messages/bounce.txt"), Ct);

        Assert.False(outcome.AlreadyRecorded);
        Assert.Equal("message-id:20220126090648.12632412E9@hmail.jitbit.com", outcome.ReportKey);
        Assert.Contains("netec.test@netecgc.com", await SuppressedAsync("netec.test@netecgc.com"));
        Assert.Equal(ChannelStatus.Bounced, await EmailStatusAsync(id));
        var bounce = Assert.Single(await store.ListRecentAsync(10, null, null, Ct));
        Assert.Equal((BounceKind.Hard, "5.1.1", "netec.test@netecgc.com", id), (bounce.Kind, bounce.Status, bounce.Address, bounce.SubscriberId));
        Assert.StartsWith("hard bounce 5.1.1: smtp; 550 5.1.1", bounce.Suppressed);
    }

    [SkippableFact]
    public async Task ProcessReportAsync_SameReportTwice_RecordsAndCountsOnce()
    {
        var (processor, store) = await CreateAsync();
        await _harness!.Subscribers.AddAsync(Subscriber("netec.test@netecgc.com"), Ct);

        await processor.ProcessReportAsync(LoadCorpus("mimekit-messages/bounce.txt"), Ct);
        var again = await processor.ProcessReportAsync(LoadCorpus("mimekit-messages/bounce.txt"), Ct);

        Assert.True(again.AlreadyRecorded);
        Assert.Empty(again.Bounces);
        Assert.Single(await store.ListRecentAsync(10, null, null, Ct));
    }

    [SkippableFact]
    public async Task ProcessReportAsync_AbuseComplaint_SuppressesAndUnsubscribes()
    {
        var (processor, store) = await CreateAsync();
        var id = await _harness!.Subscribers.AddAsync(Subscriber("user@example.com"), Ct);

        await processor.ProcessReportAsync(LoadCorpus("mimekit-messages/feedback-report.txt"), Ct);

        Assert.Contains("user@example.com", await SuppressedAsync("user@example.com"));
        Assert.Equal(ChannelStatus.Unsubscribed, await EmailStatusAsync(id));
        Assert.Equal(BounceKind.Complaint, Assert.Single(await store.ListRecentAsync(10, null, null, Ct)).Kind);
    }

    [SkippableFact]
    public async Task ProcessReportAsync_AuthFailureReport_IsRecordedWithoutSuppressing()
    {
        var (processor, store) = await CreateAsync();
        var id = await _harness!.Subscribers.AddAsync(Subscriber("user@example.com"), Ct);

        await processor.ProcessReportAsync(LoadCorpus("mail-auth-arf/003.eml"), Ct);

        Assert.Empty(await SuppressedAsync("user@example.com"));
        Assert.Equal(ChannelStatus.Active, await EmailStatusAsync(id));
        var bounce = Assert.Single(await store.ListRecentAsync(10, null, null, Ct));
        Assert.Equal((BounceKind.Other, "auth-failure", "bodyhash", null), (bounce.Kind, bounce.Status, bounce.Diagnostic, bounce.Suppressed));
    }

    [SkippableFact]
    public async Task ProcessReportAsync_AddressOfNoSubscriber_IsRecordedButNotSuppressed()
    {
        var (processor, store) = await CreateAsync();

        await processor.ProcessReportAsync(LoadCorpus("mimekit-messages/bounce.txt"), Ct);

        Assert.Empty(await SuppressedAsync("netec.test@netecgc.com"));
        var bounce = Assert.Single(await store.ListRecentAsync(10, null, null, Ct));
        Assert.Equal(("netec.test@netecgc.com", null, null), (bounce.Address, bounce.SubscriberId, bounce.Suppressed));
    }

    [SkippableFact]
    public async Task ProcessReportAsync_SoftBounces_SuppressAtTheConfiguredThreshold()
    {
        var (processor, _) = await CreateAsync(("NewsBot:Email:Bounces:SoftBounceThreshold", "2"));
        var id = await _harness!.Subscribers.AddAsync(Subscriber("full@example.org"), Ct);

        var first = await processor.ProcessReportAsync(Dsn("soft-1@mx.example.net", "full@example.org", "delayed", "4.2.2"), Ct);
        var statusAfterFirst = await EmailStatusAsync(id);
        var second = await processor.ProcessReportAsync(Dsn("soft-2@mx.example.net", "full@example.org", "delayed", "4.2.2"), Ct);

        Assert.Equal(BounceKind.Soft, Assert.Single(first.Bounces).Kind);
        Assert.Null(first.Bounces[0].Suppressed);
        Assert.Equal(ChannelStatus.Active, statusAfterFirst);
        Assert.Equal("2 soft bounces within 30 days, the last 4.2.2", Assert.Single(second.Bounces).Suppressed);
        Assert.Equal(ChannelStatus.Bounced, await EmailStatusAsync(id));
        Assert.Contains("full@example.org", await SuppressedAsync("full@example.org"));
    }

    [SkippableFact]
    public async Task ProcessReportAsync_SoftBouncesOlderThanTheWindow_DoNotCount()
    {
        await CreateAsync();
        var clock = new ManualTime(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var store = new BounceStore(_harness!.Db, clock);
        var processor = new BounceProcessor(store, _harness.Subscribers, _harness.Store, Options.Create(new BounceOptions()), clock, NullLogger<BounceProcessor>.Instance);
        await _harness.Subscribers.AddAsync(Subscriber("slow@example.org"), Ct);

        var suppressed = new List<bool>();
        foreach (var day in (int[])[0, 20, 40, 41])
        {
            clock.Now = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture).AddDays(day);
            var outcome = await processor.ProcessReportAsync(Dsn($"day-{day}@mx.example.net", "slow@example.org", "failed", "4.4.7"), Ct);
            suppressed.Add(outcome.Bounces[0].Suppressed is not null);
        }

        // Default 3 within 30 days: day 40 sees days 20 and 40 only; day 41 sees 20, 40 and 41.
        Assert.Equal([false, false, false, true], suppressed);
    }

    [SkippableFact]
    public async Task ProcessReportAsync_VerpAddressOfLedgerRow_SuppressesTheAddressSentTo()
    {
        var (processor, store) = await CreateAsync();
        var id = await _harness!.Subscribers.AddAsync(Subscriber("alice@example.org"), Ct);
        var sendId = await _harness.AddEmailSendAsync(id, "alice@example.org");
        var verp = new VerpAddress(sendId, id).Format("bounce@news.example");

        // Forwarded: the report names where the message went last, the VERP address the row it came from.
        var outcome = await processor.ProcessReportAsync(Dsn("verp@mx.example.net", "alice@forward.example", "failed", "5.1.1", to: verp), Ct);

        var bounce = Assert.Single(outcome.Bounces);
        Assert.Equal(("alice@example.org", id, sendId), (bounce.Address, bounce.SubscriberId, bounce.SendId));
        Assert.Contains("alice@example.org", await SuppressedAsync("alice@example.org"));
        Assert.Equal(ChannelStatus.Bounced, await EmailStatusAsync(id));
        Assert.Empty(await SuppressedAsync("alice@forward.example"));
        Assert.Single(await store.ListRecentAsync(10, "alice@example.org", null, Ct));
    }

    [SkippableFact]
    public async Task ABounceFromASend_IsCountedInItsReport_AndListedByIt()
    {
        var (processor, store) = await CreateAsync();
        var alice = await _harness!.Subscribers.AddAsync(Subscriber("alice@example.org"), Ct);
        var bob = await _harness.Subscribers.AddAsync(Subscriber("bob@example.org"), Ct);
        var sendId = await _harness.AddEmailSendAsync(alice, "alice@example.org");
        var otherSendId = await _harness.AddEmailSendAsync(bob, "bob@example.org");
        await processor.ProcessReportAsync(Dsn("a@mx.example.net", "alice@example.org", "failed", "5.1.1", to: new VerpAddress(sendId, alice).Format("bounce@news.example")), Ct);
        await processor.ProcessReportAsync(Dsn("b@mx.example.net", "bob@example.org", "failed", "5.1.1", to: new VerpAddress(otherSendId, bob).Format("bounce@news.example")), Ct);

        var (code, output, _) = await _harness.Host.RunCliAsync("sends", "show", sendId.ToString(CultureInfo.InvariantCulture));
        var (listCode, list, _) = await _harness.Host.RunCliAsync("bounces", "list", "--send", sendId.ToString(CultureInfo.InvariantCulture));

        Assert.Equal(new Dictionary<BounceKind, int> { [BounceKind.Hard] = 1 }, await store.CountForSendAsync(sendId, Ct));
        Assert.Equal(0, code);
        Assert.Contains($"bounced afterwards: hard 1 (bounces list --send {sendId})", output, StringComparison.Ordinal);
        Assert.Equal(0, listCode);
        Assert.Contains("alice@example.org", list, StringComparison.Ordinal);
        Assert.DoesNotContain("bob@example.org", list, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task ProcessReportAsync_ReturnedMessageIdOfLedgerRow_FindsTheRowWithoutVerp()
    {
        var (processor, _) = await CreateAsync();
        var id = await _harness!.Subscribers.AddAsync(Subscriber("bob@example.org"), Ct);
        var sendId = await _harness.AddEmailSendAsync(id, "bob@example.org");
        var messageId = DeliveryStore.IdempotencyKey(sendId, id, Channels.Email).Replace(':', '.') + "@news.example";

        var outcome = await processor.ProcessReportAsync(
            Dsn("by-id@mx.example.net", "robert@forward.example", "failed", "5.2.1", returnedMessageId: messageId), Ct);

        Assert.Equal(("bob@example.org", sendId), (outcome.Bounces[0].Address, outcome.Bounces[0].SendId));
        Assert.Equal(ChannelStatus.Bounced, await EmailStatusAsync(id));
    }

    [SkippableFact]
    public async Task ProcessReportAsync_DeliveredNotification_IsNoBounce()
    {
        var (processor, store) = await CreateAsync();
        var id = await _harness!.Subscribers.AddAsync(Subscriber("carol@example.org"), Ct);

        var outcome = await processor.ProcessReportAsync(Dsn("ok@mx.example.net", "carol@example.org", "delivered", "2.0.0"), Ct);

        Assert.Equal(ReportType.DeliveryStatus, outcome.Type);
        Assert.Empty(outcome.Bounces);
        Assert.Equal(ChannelStatus.Active, await EmailStatusAsync(id));
        Assert.Empty(await store.ListRecentAsync(10, null, null, Ct));
    }

    /// <summary>An RFC 3464 report as an MTA writes it, with one recipient.</summary>
    public static MimeMessage Dsn(
        string messageId, string recipient, string action, string status, string to = "news@news.example", string? returnedMessageId = null)
    {
        var text = $"""
            From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
            To: {to}
            Subject: Delivery Status Notification
            Message-ID: <{messageId}>
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

            --b1
            Content-Type: text/plain

            Your message to {recipient}: {action}.

            --b1
            Content-Type: message/delivery-status

            Reporting-MTA: dns; mx.example.net

            Final-Recipient: rfc822; {recipient}
            Action: {action}
            Status: {status}
            Diagnostic-Code: smtp; {status[0]}50 {status} reported by the test

            --b1
            Content-Type: text/rfc822-headers

            From: News <news@news.example>
            To: {recipient}
            Subject: Today's posts
            Message-ID: <{returnedMessageId ?? "other-" + messageId}>

            --b1--

            """;
        return MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\r\n"))));
    }

    private static NewSubscriber Subscriber(string email) => new(email, null, [], Cadence.Instant);

    private static MimeMessage LoadCorpus(string relative) => MimeMessage.Load(Path.Combine(TestPaths.RequireCorpus("email"), relative));

    private async Task<(BounceProcessor Processor, BounceStore Store)> CreateAsync(params (string Key, string? Value)[] settings)
    {
        _harness = await DeliveryHarness.CreateAsync(provider, settings);
        return (_harness.Services.GetRequiredService<BounceProcessor>(), _harness.Services.GetRequiredService<BounceStore>());
    }

    private Task<HashSet<string>> SuppressedAsync(string address) => _harness!.Subscribers.FindSuppressedAsync(Channels.Email, [address], Ct);

    private async Task<ChannelStatus> EmailStatusAsync(long subscriberId) =>
        (await _harness!.Subscribers.GetAsync(subscriberId, Ct))!.Channels.Single(c => c.Channel == Channels.Email).Status;
}

public sealed class BounceProcessorSqliteTests() : BounceProcessorTests(Db.SqliteProvider);

public sealed class BounceProcessorPostgresqlTests() : BounceProcessorTests(Db.PostgresqlProvider);
