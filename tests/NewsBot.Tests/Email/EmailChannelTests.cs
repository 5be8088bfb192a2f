using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

using MimeKit;
using MimeKit.Cryptography;

using NewsBot.Admin;
using NewsBot.Delivery;
using NewsBot.Email;
using NewsBot.Subscribers;
using NewsBot.Tests.Delivery;

namespace NewsBot.Tests.Email;

/// <summary>The SMTP channel against a real SMTP server in the test process, through the ledger and the dispatch job.</summary>
public sealed class EmailChannelTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private SmtpTestServer _smtp = null!;
    private DeliveryHarness? _harness;

    public async Task InitializeAsync() => _smtp = await SmtpTestServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_harness?.Services.GetService<EmailChannel>() is { } channel)
        {
            await channel.DisposeAsync();
        }

        _harness?.Dispose();
        await _smtp.DisposeAsync();
    }

    [Fact]
    public async Task PostSend_ArrivesAsMultipartWithTheBulkSenderHeaders_AndAVerpReturnPath()
    {
        var h = await CreateAsync(
            ("NewsBot:Email:ReplyTo", "editor@news.example"),
            ("NewsBot:Email:UnsubscribeMailto", "unsubscribe@news.example"),
            ("NewsBot:Email:Verp:Enabled", "true"),
            ("NewsBot:Email:Verp:Domain", "bounces.news.example"));
        await h.SeedAsync(new NewSubscriber("reader@example.org", null, [], Cadence.Instant));
        var sendId = await PlanPostAsync(h);

        Assert.Equal(0, await h.RunDispatchesAsync());

        var mail = Assert.Single(_smtp.Received);
        var row = await SingleRowAsync(h, sendId);
        Assert.Equal($"bounce+{sendId}-{row.SubscriberId}@bounces.news.example", mail.MailFrom);
        Assert.True(VerpAddress.TryParse(mail.MailFrom, out var verp), mail.MailFrom);
        Assert.Equal(DeliveryStore.IdempotencyKey(sendId, row.SubscriberId, Channels.Email), verp.IdempotencyKey);
        Assert.Equal(["reader@example.org"], mail.RcptTo);
        var message = mail.Parse();
        Assert.Equal(("News Desk", "desk@news.example"), (message.From.Mailboxes.Single().Name, message.From.Mailboxes.Single().Address));
        Assert.Equal("editor@news.example", message.ReplyTo.Mailboxes.Single().Address);
        Assert.Equal("reader@example.org", message.To.Mailboxes.Single().Address);
        Assert.Equal("Title p1", message.Subject);
        Assert.Equal($"send.{sendId}.sub.{row.SubscriberId}.email@news.example", message.MessageId);
        Assert.InRange(message.Date, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal("<newsbot.news.example>", message.Headers[HeaderId.ListId]);
        var listUnsubscribe = Unfold(message.Headers[HeaderId.ListUnsubscribe]);
        Assert.Matches(@"^<https://news\.example/unsubscribe\?t=[^>\s]+>, <mailto:unsubscribe@news\.example\?subject=unsubscribe>$", listUnsubscribe);
        var unsubscribe = listUnsubscribe[1..listUnsubscribe.IndexOf('>', StringComparison.Ordinal)];
        Assert.Equal("List-Unsubscribe=One-Click", message.Headers[HeaderId.ListUnsubscribePost]);
        var alternative = Assert.IsType<MultipartAlternative>(message.Body);
        Assert.Equal(["text/plain", "text/html"], alternative.Select(p => p.ContentType.MimeType));
        Assert.Contains("Title p1", message.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("Title p1", message.TextBody, StringComparison.Ordinal);
        // The visible link in the body is the same as the header's.
        Assert.Contains(unsubscribe, message.TextBody, StringComparison.Ordinal);
        Assert.Equal(1, (await h.Store.CountStatesAsync(sendId, Ct))[DeliveryState.Sent]);
    }

    [Fact]
    public async Task ParallelSends_ShareThePoolsConnections()
    {
        var h = await CreateAsync(("NewsBot:Email:Smtp:PoolSize", "3"));
        var channel = h.Services.GetRequiredService<EmailChannel>();

        var results = await Task.WhenAll(Enumerable.Range(1, 30).Select(i =>
            channel.SendAsync(Message($"k:{i}", $"r{i}@example.org", "Hello"), Ct)));

        Assert.All(results, r => Assert.Equal(ChannelResult.Sent, r));
        Assert.Equal(30, _smtp.Received.Count);
        Assert.Equal(Enumerable.Range(1, 30).Select(i => $"r{i}@example.org").Order(), _smtp.Received.Select(m => m.RcptTo.Single()).Order());
        Assert.InRange(_smtp.Sessions, 1, 3);
        Assert.Equal(_smtp.Sessions, channel.ConnectionsOpened);
    }

    [Fact]
    public async Task Recipient550_FailsPermanently_AndSuppressesTheAddressAtOnce()
    {
        var h = await CreateAsync();
        await h.SeedAsync(
            new NewSubscriber("gone@example.org", null, [], Cadence.Instant),
            new NewSubscriber("here@example.org", null, [], Cadence.Instant));
        _smtp.ReplyToRecipient("gone@example.org", 550, "5.1.1 <gone@example.org>: Recipient address rejected: User unknown");
        var sendId = await PlanPostAsync(h);

        Assert.Equal(0, await h.RunDispatchesAsync());

        var counts = await h.Store.CountStatesAsync(sendId, Ct);
        Assert.Equal((1, 1), (counts[DeliveryState.Sent], counts[DeliveryState.FailedPermanent]));
        var error = Assert.Single(await h.Store.ListErrorsAsync(sendId, 10, Ct));
        Assert.Equal("gone@example.org", error.Address);
        Assert.StartsWith("SMTP 550 5.1.1", error.Error, StringComparison.Ordinal);
        Assert.Equal(["gone@example.org"], await h.Subscribers.FindSuppressedAsync(Channels.Email, ["gone@example.org", "here@example.org"], Ct));
        Assert.Equal(["here@example.org"], _smtp.Received.Select(m => m.RcptTo.Single()));
        // The next send skips the address without asking the relay.
        var next = await PlanPostAsync(h, "p2");
        await h.RunDispatchesAsync();
        Assert.Equal(1, (await h.Store.CountStatesAsync(next, Ct))[DeliveryState.Skipped]);
    }

    [Fact]
    public async Task Recipient451_FailsTransiently_AndTheRetrySendsItOnce()
    {
        var h = await CreateAsync();
        await h.SeedAsync(
            new NewSubscriber("busy@example.org", null, [], Cadence.Instant),
            new NewSubscriber("fine@example.org", null, [], Cadence.Instant));
        _smtp.ReplyToRecipient("busy@example.org", 451, "4.7.1 Greylisted, try again later");
        var sendId = await PlanPostAsync(h);

        var failedJobs = await h.RunDispatchesAsync();
        var afterFirst = await h.Store.CountStatesAsync(sendId, Ct);
        var error = Assert.Single(await h.Store.ListErrorsAsync(sendId, 10, Ct));
        // Hangfire's retry of the chunk: it claims only the failed row.
        Assert.Equal(0, await h.RunDispatchesAsync());

        Assert.Equal(1, failedJobs);
        Assert.Equal((1, 1), (afterFirst[DeliveryState.Sent], afterFirst[DeliveryState.FailedTransient]));
        Assert.StartsWith("SMTP 451 4.7.1", error.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await h.Store.CountStatesAsync(sendId, Ct))[DeliveryState.Sent]);
        Assert.Equal(["busy@example.org", "fine@example.org"], _smtp.Received.Select(m => m.RcptTo.Single()).Order());
        Assert.Empty(await h.Subscribers.FindSuppressedAsync(Channels.Email, ["busy@example.org"], Ct));
    }

    [Theory]
    [InlineData("dropped")]
    [InlineData("421")]
    public async Task DroppedConnection_ReconnectsAndContinues_WithoutSendingAnyMessageTwice(string how)
    {
        var h = await CreateAsync(("NewsBot:Email:Smtp:PoolSize", "1"));
        await h.SeedAsync(Enumerable.Range(1, 10).Select(i => new NewSubscriber($"s{i}@example.org", null, [], Cadence.Instant)).ToArray());
        var sendId = await PlanPostAsync(h);
        // One message opens the pooled connection. Then it dies: "dropped", silently after three messages of the send,
        // under the fourth MAIL FROM; "421", the first MAIL FROM of the send is answered "421 closing" (an idle
        // timeout, a relay restarting) and the server hangs up.
        var channel = h.Services.GetRequiredService<EmailChannel>();
        Assert.Equal(ChannelResult.Sent, await channel.SendAsync(Message("warm-up", "first@example.org", "Hello"), Ct));
        if (how == "421")
        {
            _smtp.ReplyToNextSenderAndClose(421, "4.4.2 smtp.test closing connection");
        }
        else
        {
            _smtp.DropConnectionAfter(3);
        }

        Assert.Equal(0, await h.RunDispatchesAsync());

        Assert.Equal(10, (await h.Store.CountStatesAsync(sendId, Ct))[DeliveryState.Sent]);
        Assert.Equal(11, _smtp.Received.Count);
        Assert.Equal(11, _smtp.Received.Select(m => m.RcptTo.Single()).Distinct().Count());
        Assert.Equal(2, _smtp.Sessions);
        Assert.Equal(10, await h.CountAsync("SELECT COUNT(*) FROM deliveries WHERE attempts = 1"));
    }

    [Theory]
    [InlineData("rsa-sha256", "dkim-rsa")]
    [InlineData("ed25519-sha256", "dkim-ed25519")]
    public async Task Dkim_SignatureCoversTheUnsubscribeHeaders_AndVerifies(string algorithm, string key)
    {
        var h = await CreateAsync(
            ("NewsBot:Email:Dkim:Domain", "news.example"),
            ("NewsBot:Email:Dkim:Selector", "nb2026"),
            ("NewsBot:Email:Dkim:PrivateKeyPath", TestPaths.Fixture($"email/{key}.pem")),
            ("NewsBot:Email:Dkim:Algorithm", algorithm));
        await h.SeedAsync(new NewSubscriber("reader@example.org", null, [], Cadence.Instant));
        await PlanPostAsync(h, "p1", "Sanctions widen: “€100m” <fines> & more");

        await h.RunDispatchesAsync();

        var message = Assert.Single(_smtp.Received).Parse();
        var signature = Assert.Single(message.Headers, x => x.Id == HeaderId.DkimSignature);
        var tags = signature.Value.Split(';').Select(t => t.Trim().Split('=', 2)).ToDictionary(t => t[0], t => t.Length > 1 ? t[1] : "");
        Assert.Equal(algorithm, tags["a"]);
        Assert.Equal(("news.example", "nb2026"), (tags["d"], tags["s"]));
        var signed = tags["h"].Split(':').Select(x => x.Trim().ToLowerInvariant()).ToList();
        Assert.Subset(signed.ToHashSet(), new HashSet<string> { "from", "subject", "date", "to", "message-id", "list-unsubscribe", "list-unsubscribe-post" });
        var verifier = new DkimVerifier(new DkimKeyRecords([new(DkimKeyRecords.RecordName("nb2026", "news.example"), File.ReadAllText(TestPaths.Fixture($"email/{key}.txt")).Trim())]));
        Assert.True(await verifier.VerifyAsync(message, signature, Ct));
        // Changing a signed header breaks it: the verification above is not vacuous.
        message.Headers[HeaderId.ListUnsubscribe] = "<https://evil.example/unsubscribe>";
        Assert.False(await verifier.VerifyAsync(message, signature, Ct));
    }

    [Fact]
    public async Task ACancelledSend_EndsAtOnce_WhileTheRelayIsSilent_AndClosesTheSession()
    {
        // A relay that greets, answers EHLO and then says nothing: the session blocks on MAIL FROM's reply, and only
        // the cancellation (not the minute's timeout) can end it.
        using var relay = new TcpListener(IPAddress.Loopback, 0);
        relay.Start();
        var heard = SilentAfterEhloAsync(relay);
        var h = await CreateAsync(
            ("NewsBot:Email:Smtp:Port", ((IPEndPoint)relay.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture)),
            ("NewsBot:Email:Smtp:Timeout", "00:01:00"));
        var channel = h.Services.GetRequiredService<EmailChannel>();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        // On a thread of its own: the session blocks the thread that sends.
        var sending = Task.Run(() => channel.SendAsync(Message("k:1", "reader@example.org", "Hello"), cancel.Token));

        // Not an OperationCanceledException after 20 s means the send waited for the relay's timeout instead.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending.WaitAsync(TimeSpan.FromSeconds(20)));
        var transcript = await heard.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Contains("MAIL FROM:<", transcript, StringComparison.Ordinal);
        Assert.DoesNotContain("DATA", transcript, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARelayThatNeverAcceptsTheConnection_FailsTheMessageTransiently_AfterTheTimeout()
    {
        // Linux drops a SYN while the listener's accept queue is full, so once a few connections wait unaccepted the
        // next connect gets no answer at all, as from a firewalled relay.
        using var relay = new Socket(SocketType.Stream, ProtocolType.Tcp);
        relay.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        relay.Listen(0);
        var endpoint = (IPEndPoint)relay.LocalEndPoint!;
        var waiting = new List<Socket>();
        try
        {
            while (waiting.Count < 16)
            {
                var filler = new Socket(SocketType.Stream, ProtocolType.Tcp);
                waiting.Add(filler);
                using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
                try
                {
                    await filler.ConnectAsync(endpoint, wait.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            Assert.True(waiting.Count < 16, "the accept queue never filled");
            var h = await CreateAsync(
                ("NewsBot:Email:Smtp:Port", endpoint.Port.ToString(CultureInfo.InvariantCulture)),
                ("NewsBot:Email:Smtp:Timeout", "00:00:01"));
            var channel = h.Services.GetRequiredService<EmailChannel>();

            var result = await Task.Run(() => channel.SendAsync(Message("k:1", "reader@example.org", "Hello"), Ct)).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(ChannelOutcome.FailedTransient, result.Outcome);
            Assert.Contains($"did not accept the connection within 1000 ms", result.Error, StringComparison.Ordinal);
        }
        finally
        {
            waiting.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task CrLfInASubject_CreatesNoHeaderAndNoRecipient()
    {
        var h = await CreateAsync();
        var channel = h.Services.GetRequiredService<EmailChannel>();

        var result = await channel.SendAsync(Message("k:1", "reader@example.org", "Breaking\r\nBcc: victim@example.org\r\nX-Injected: yes\nSubject: second"), Ct);

        Assert.Equal(ChannelResult.Sent, result);
        var mail = Assert.Single(_smtp.Received);
        Assert.Equal(["reader@example.org"], mail.RcptTo);
        var message = mail.Parse();
        Assert.Empty(message.Bcc);
        Assert.DoesNotContain(message.Headers, x => x.Field is "X-Injected" or "Bcc");
        Assert.Single(message.Headers, x => x.Id == HeaderId.Subject);
        Assert.Equal("Breaking Bcc: victim@example.org X-Injected: yes Subject: second", message.Subject);
    }

    [Fact]
    public async Task ARunOfPermanentRefusals_PausesTheSend_AndRetryingItResumes()
    {
        var h = await CreateAsync(("NewsBot:Email:PermanentFailurePause", "3"), ("NewsBot:Delivery:ChunkSize", "4"));
        await h.SeedAsync(Enumerable.Range(1, 10).Select(i => new NewSubscriber($"s{i}@example.org", null, [], Cadence.Instant)).ToArray());
        _smtp.SenderReply = new SmtpServer.Protocol.SmtpResponse((SmtpServer.Protocol.SmtpReplyCode)554, "5.7.1 Account suspended");
        var sendId = await PlanPostAsync(h);

        await h.RunDispatchesAsync();
        var paused = await h.Store.CountStatesAsync(sendId, Ct);
        var send = (await h.Store.GetSendAsync(sendId, Ct))!;
        var admin = Admin(h);
        var report = (await admin.GetReportAsync(sendId, Ct))!;

        Assert.Equal((3, 7), (paused[DeliveryState.FailedPermanent], paused[DeliveryState.Pending]));
        Assert.NotNull(send.PausedAt);
        Assert.Null(send.FinishedAt);
        Assert.Contains("3 messages in a row were refused permanently", send.PauseReason, StringComparison.Ordinal);
        Assert.Contains("5.7.1 Account suspended", report.PauseReason, StringComparison.Ordinal);
        // A refused sender is the relay's verdict on us, not on the reader: nobody is suppressed.
        Assert.Empty(await h.Subscribers.FindSuppressedAsync(Channels.Email, [.. Enumerable.Range(1, 10).Select(i => $"s{i}@example.org")], Ct));
        var (code, output, _) = await RunShowAsync(h, sendId);
        Assert.Equal(0, code);
        Assert.Contains("PAUSED", output, StringComparison.Ordinal);

        // The admin fixes the account and retries (what AdminService.RetryFailedAsync does): every row goes out once.
        _smtp.SenderReply = null;
        h.Jobs.Clear();
        Assert.Equal(3, await h.Store.RetryFailedAsync(sendId, Ct));
        await h.Planner.DispatchPendingAsync(sendId, Ct);
        await h.RunDispatchesAsync();

        Assert.Equal(10, (await h.Store.CountStatesAsync(sendId, Ct))[DeliveryState.Sent]);
        Assert.Null((await h.Store.GetSendAsync(sendId, Ct))!.PausedAt);
        Assert.Equal(10, _smtp.Received.Count);
    }

    [Fact]
    public async Task ATestSend_GoesThroughSmtp_NotTheOutbox()
    {
        var h = await CreateAsync();
        var postId = await h.AddPostAsync("p1", ["sanctions"]);

        var result = await Admin(h).SendTestAsync(Channels.Email, "editor@example.org", postId, Ct);

        Assert.Equal(ChannelOutcome.Sent, result.Outcome);
        Assert.Equal(["editor@example.org"], Assert.Single(_smtp.Received).RcptTo);
        Assert.Empty(h.OutboxFiles());
    }

    [Fact]
    public async Task WrongCredentials_FailPermanently_AndPauseTheSend_RightOnesSend()
    {
        _smtp.Credentials = ("newsbot", "right");
        var h = await CreateAsync(
            ("NewsBot:Email:Smtp:Username", "newsbot"), ("NewsBot:Email:Smtp:Password", "wrong"), ("NewsBot:Email:PermanentFailurePause", "2"));
        await h.SeedAsync(Enumerable.Range(1, 4).Select(i => new NewSubscriber($"s{i}@example.org", null, [], Cadence.Instant)).ToArray());
        var sendId = await PlanPostAsync(h);

        await h.RunDispatchesAsync();

        var counts = await h.Store.CountStatesAsync(sendId, Ct);
        Assert.Equal((2, 2), (counts[DeliveryState.FailedPermanent], counts[DeliveryState.Pending]));
        Assert.All(await h.Store.ListErrorsAsync(sendId, 10, Ct), e => Assert.Contains("SMTP AUTH refused", e.Error, StringComparison.Ordinal));
        Assert.NotNull((await h.Store.GetSendAsync(sendId, Ct))!.PausedAt);
        Assert.Empty(_smtp.Received);
        Assert.Equal(0, _smtp.Authenticated);

        _smtp.Credentials = ("newsbot", "wrong");
        h.Jobs.Clear();
        await h.Store.RetryFailedAsync(sendId, Ct);
        await h.Planner.DispatchPendingAsync(sendId, Ct);
        await h.RunDispatchesAsync();

        Assert.Equal(4, (await h.Store.CountStatesAsync(sendId, Ct))[DeliveryState.Sent]);
        Assert.Equal(1, _smtp.Authenticated);
    }

    /// <summary>Accepts one session, greets, answers EHLO, then only listens; returns what the client sent until it closed.</summary>
    private static async Task<string> SilentAfterEhloAsync(TcpListener relay)
    {
        using var session = await relay.AcceptSocketAsync();
        await session.SendAsync("220 silent.test ESMTP\r\n"u8.ToArray());
        var heard = new StringBuilder();
        var buffer = new byte[1024];
        try
        {
            int read;
            while ((read = await session.ReceiveAsync(buffer)) > 0)
            {
                var text = Encoding.ASCII.GetString(buffer, 0, read);
                heard.Append(text);
                if (text.StartsWith("EHLO", StringComparison.Ordinal))
                {
                    await session.SendAsync("250 silent.test\r\n"u8.ToArray());
                }
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // A socket closed mid-session may end with a reset rather than a FIN; either way the client has gone.
        }

        return heard.ToString();
    }

    private async Task<DeliveryHarness> CreateAsync(params (string Key, string? Value)[] settings)
    {
        _harness = await DeliveryHarness.CreateAsync(
        [
            ("NewsBot:Email:From", "News Desk <desk@news.example>"),
            ("NewsBot:Email:Smtp:Host", "127.0.0.1"),
            ("NewsBot:Email:Smtp:Port", _smtp.Port.ToString(CultureInfo.InvariantCulture)),
            ("NewsBot:Email:Smtp:Security", "None"),
            ("NewsBot:Email:Smtp:Timeout", "00:00:10"),
            ("NewsBot:Templates:PublicBaseUrl", "https://news.example"),
            .. settings,
        ]);
        return _harness;
    }

    /// <summary>
    /// The admin service over the harness's recording planner, whose jobs the test runs itself.
    /// </summary>
    private static AdminService Admin(DeliveryHarness h) => ActivatorUtilities.CreateInstance<AdminService>(h.Services, h.Planner);

    private static async Task<long> PlanPostAsync(DeliveryHarness h, string key = "p1", string? title = null)
    {
        h.Jobs.Clear();
        var postId = await h.AddPostAsync(key, ["sanctions"], title: title);
        var plan = await h.Planner.PlanAsync(new SendRequest("post", postId, null, [Channels.Email], null, false), Ct);
        return plan.SendId!.Value;
    }

    private static async Task<(long Id, long SubscriberId)> SingleRowAsync(DeliveryHarness h, long sendId) =>
        (await h.CountAsync($"SELECT id FROM deliveries WHERE send_id = {sendId}"), await h.CountAsync($"SELECT subscriber_id FROM deliveries WHERE send_id = {sendId}"));

    private static Task<(int ExitCode, string Output, string Error)> RunShowAsync(DeliveryHarness h, long sendId) =>
        h.Host.RunCliAsync("sends", "show", sendId.ToString(CultureInfo.InvariantCulture));

    private static OutgoingMessage Message(string key, string address, string subject) =>
        new(key, Channels.Email, address, subject, "<p>Body</p>", "Body",
            new NewsBot.Templates.SubscriberLinks("https://news.example/preferences?s=1", "https://news.example/unsubscribe?s=1"));

    private static string Unfold(string? value) => (value ?? "").Replace("\r\n", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal).Trim();
}
