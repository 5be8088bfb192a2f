using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Threading.RateLimiting;

using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;

using Microsoft.Extensions.Options;

using MimeKit;

using NewsBot.Delivery;
using NewsBot.Subscribers;

namespace NewsBot.Email;

/// <summary>
/// Sends email through an SMTP relay over a pool of <see cref="SmtpOptions.PoolSize"/> connections kept open across
/// messages, and turns the relay's answers into ledger outcomes (RFC 5321 §4.2.1: 4yz transient, 5yz permanent).
/// A recipient refused with 5yz is suppressed at once. A connection that dropped before the relay took the
/// transaction is replaced and the message sent on the new one; once DATA got its 250 the message counts as sent,
/// whatever happens to the connection afterwards.
/// <para>
/// The SMTP session itself runs synchronously on a blocking socket, on the thread that holds the connection's slot.
/// A message is three request-and-reply turns (MAIL and RCPT pipelined, RFC 2920; DATA; the content), and each
/// asynchronous reply costs a wake-up of the socket engine's epoll thread and then of a thread-pool worker: a
/// blocking read is woken by the kernel directly. On the 2-core benchmark that cut NewsBot's CPU per message by about
/// a quarter (README, Performance). At most <see cref="SmtpOptions.PoolSize"/> threads block at once, and the thread
/// pool's minimum is raised by as many so other work does not wait for new threads.
/// </para>
/// </summary>
public sealed class EmailChannel : IChannel, IAsyncDisposable
{
    /// <summary>A connection idle this long is probed with NOOP before use: relays close idle sessions (RFC 5321 §4.5.3.2.7: 5 minutes).</summary>
    private static readonly TimeSpan IdleProbe = TimeSpan.FromSeconds(30);

    private readonly EmailOptions _options;
    private readonly EmailComposer _composer;
    private readonly SubscriberStore _subscribers;
    private readonly TimeProvider _time;
    private readonly ILogger<EmailChannel> _logger;
    private readonly SemaphoreSlim _slots;
    private readonly TokenBucketRateLimiter? _quota;
    private readonly X509Certificate2? _trusted;
    private readonly ConcurrentBag<PooledConnection> _idle = [];
    private int _connectionsOpened;
    private int _permanentRun;

    public EmailChannel(IOptions<EmailOptions> options, EmailComposer composer, SubscriberStore subscribers, TimeProvider time, ILogger<EmailChannel> logger)
    {
        _options = options.Value;
        if (!_options.SmtpEnabled)
        {
            throw new InvalidOperationException($"{SmtpKey}:Host is not set; the email channel needs it.");
        }

        _composer = composer;
        _subscribers = subscribers;
        _time = time;
        _logger = logger;
        _slots = new SemaphoreSlim(_options.Smtp.PoolSize, _options.Smtp.PoolSize);
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        var wanted = Environment.ProcessorCount + _options.Smtp.PoolSize;
        if (workers < wanted)
        {
            ThreadPool.SetMinThreads(wanted, completionPorts);
        }

        if (!string.IsNullOrWhiteSpace(_options.Smtp.TrustedCertificatePath))
        {
            var (certificate, problem) = _options.Smtp.LoadTrustedCertificate();
            _trusted = certificate ?? throw new InvalidOperationException($"{SmtpKey}:TrustedCertificatePath '{_options.Smtp.TrustedCertificatePath}' {problem}");
        }

        if (_options.Smtp.MessagesPerSecond > 0)
        {
            // Refilled every 100 ms so a quota of 14/s goes out as a steady 1-2 per tick, not a burst each second.
            var perTick = Math.Max(1, (int)Math.Round(_options.Smtp.MessagesPerSecond / 10));
            _quota = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = perTick,
                TokensPerPeriod = perTick,
                ReplenishmentPeriod = TimeSpan.FromSeconds(perTick / _options.Smtp.MessagesPerSecond),
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                AutoReplenishment = true,
            });
        }
    }

    public string Name => Channels.Email;

    public double MessagesPerSecond => _options.Smtp.MessagesPerSecond > 0
        ? _options.Smtp.MessagesPerSecond
        : _options.Smtp.PoolSize * SmtpOptions.UnpacedEstimatePerConnection;

    /// <summary>SMTP sessions opened since start (a pool that works opens far fewer than it sends messages).</summary>
    public int ConnectionsOpened => Volatile.Read(ref _connectionsOpened);

    private static string SmtpKey => EmailOptions.Section + ":Smtp";

    public async Task<ChannelResult> SendAsync(OutgoingMessage message, CancellationToken ct)
    {
        if (EmailComposer.ParseRecipient(message.Address) is not { } to)
        {
            return new ChannelResult(ChannelOutcome.FailedPermanent, $"'{message.Address}' is not an email address");
        }

        // Disposed once sent: MimeKit's messages and parts have finalizers, and an undisposed one survives a
        // collection with its 25 KB body, which pushed every message into gen2 (over 200 gen2 collections a run).
        using var email = _composer.Compose(message, to);
        var sender = _composer.EnvelopeSender(message.IdempotencyKey);
        if (_quota is not null)
        {
            using var lease = await _quota.AcquireAsync(1, ct);
        }

        await _slots.WaitAsync(ct);
        var connection = _idle.TryTake(out var idle) ? idle : new PooledConnection();
        (ChannelResult Result, bool Suppress) outcome;
        try
        {
            // A blocking call ends only with its socket: cancelling closes it.
            using (ct.Register(static c => ((PooledConnection)c!).Abort(), connection))
            {
                outcome = SendOn(connection, email, sender, to, ct);
            }
        }
        catch (Exception e)
        {
            // Cancelled mid-command: the session's state is unknown, so it is not reused.
            connection.Close();
            if (ct.IsCancellationRequested && e is not OperationCanceledException)
            {
                throw new OperationCanceledException("The send was cancelled mid-session; the SMTP connection is closed.", e, ct);
            }

            throw;
        }
        finally
        {
            _idle.Add(connection);
            _slots.Release();
        }

        return await CountAsync(message, outcome.Result, outcome.Suppress);
    }

    public ValueTask DisposeAsync()
    {
        while (_idle.TryTake(out var connection))
        {
            connection.Close();
        }

        _slots.Dispose();
        _quota?.Dispose();
        _trusted?.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>One transaction; a connection found dead before the relay took the envelope is replaced once.</summary>
    private (ChannelResult Result, bool Suppress) SendOn(PooledConnection connection, MimeMessage email, MailboxAddress sender, MailboxAddress to, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                EnsureConnected(connection, ct);
                connection.Client.SenderAccepted = false;
                connection.Client.Send(email, sender, [to], ct);
                connection.LastUsed = _time.GetUtcNow();
                return (ChannelResult.Sent, false);
            }
            catch (SmtpCommandException e) when (e.StatusCode != SmtpStatusCode.ServiceNotAvailable)
            {
                // MailKit sent RSET after a refused command: the session stays usable.
                connection.LastUsed = _time.GetUtcNow();
                var code = (int)e.StatusCode;
                var detail = $"SMTP {code} {e.Message.Trim()} ({Stage(e.ErrorCode)})";
                // Only a refused recipient is the address's fault; a refused sender or message is the relay's or ours.
                return code >= 500
                    ? (new ChannelResult(ChannelOutcome.FailedPermanent, detail), e.ErrorCode == SmtpErrorCode.RecipientNotAccepted)
                    : (new ChannelResult(ChannelOutcome.FailedTransient, detail), false);
            }
            catch (AuthenticationException e)
            {
                // RFC 4954 §6: 535 is the relay refusing our credentials; every message would get the same, so it is
                // permanent and counts toward pausing the send.
                connection.Close();
                return (new ChannelResult(ChannelOutcome.FailedPermanent,
                    $"SMTP AUTH refused by {_options.Smtp.Host}: {e.Message.Trim()} (check {SmtpKey}:Username and {SmtpKey}:Password)"), false);
            }
            catch (SslHandshakeException e) when (e.ServerCertificate is not null)
            {
                // The relay's certificate was refused, not the connection lost: every message would meet the same
                // certificate, so as with refused credentials it is permanent and counts toward pausing the send.
                connection.Close();
                return (new ChannelResult(ChannelOutcome.FailedPermanent,
                    $"TLS: the certificate of {_options.Smtp.Host} was refused ({e.ServerCertificate.Subject}): {e.Message.Trim()} (check {SmtpKey}:Host against the certificate's names, or {SmtpKey}:TrustedCertificatePath)"), false);
            }
            catch (Exception e) when (IsConnectionFailure(e) && !ct.IsCancellationRequested)
            {
                var accepted = connection.Client.SenderAccepted;
                connection.Close();
                // Before MAIL FROM was answered the relay holds nothing of this message: sending it again on a new
                // connection cannot duplicate it. After that, only a later retry of the row may send it again.
                if (!accepted && attempt < 2)
                {
                    _logger.LogDebug("SMTP connection to {Host} dropped ({Error}); reconnecting", _options.Smtp.Host, e.Message);
                    continue;
                }

                return (new ChannelResult(ChannelOutcome.FailedTransient, $"SMTP connection to {_options.Smtp.Host}:{_options.Smtp.Port} failed: {e.GetType().Name}: {e.Message}"), false);
            }
        }
    }

    /// <summary>Records a permanent refusal: the address is suppressed, and a long run of them pauses the send.</summary>
    private async Task<ChannelResult> CountAsync(OutgoingMessage message, ChannelResult result, bool suppress)
    {
        if (result.Outcome != ChannelOutcome.FailedPermanent)
        {
            Interlocked.Exchange(ref _permanentRun, 0);
            return result;
        }

        if (suppress)
        {
            try
            {
                await _subscribers.SuppressAsync(Channels.Email, message.Address, result.Error ?? "SMTP 5xx", CancellationToken.None);
            }
            catch (SubscriberException e)
            {
                _logger.LogWarning("SMTP refused {Address} permanently but it is not suppressed: {Error}", message.Address, e.Message);
            }
        }

        var run = Interlocked.Increment(ref _permanentRun);
        var threshold = _options.PermanentFailurePause;
        if (threshold > 0 && run >= threshold)
        {
            // Counted again from zero: a resumed send gets a whole new run before it pauses again.
            Interlocked.Exchange(ref _permanentRun, 0);
            return result with
            {
                PauseReason = $"{run} messages in a row were refused permanently by {_options.Smtp.Host} (last: {result.Error}); check the relay account and the From address, then retry the send",
            };
        }

        return result;
    }

    private void EnsureConnected(PooledConnection connection, CancellationToken ct)
    {
        if (connection.Client.IsConnected && _time.GetUtcNow() - connection.LastUsed > IdleProbe)
        {
            try
            {
                connection.Client.NoOp(ct);
            }
            catch (Exception e) when (IsConnectionFailure(e) || e is SmtpCommandException)
            {
                connection.Close();
            }
        }

        if (connection.Client.IsConnected)
        {
            return;
        }

        // What is left of an earlier session goes first: a refused greeting leaves its socket open.
        connection.Close();
        var client = connection.Client;
        client.Timeout = (int)_options.Smtp.Timeout.TotalMilliseconds;
        var security = _options.Smtp.Security switch
        {
            SmtpSecurity.None => SecureSocketOptions.None,
            SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
            SmtpSecurity.Tls => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.Auto,
        };
        if (_trusted is not null)
        {
            client.ServerCertificateValidationCallback = AcceptRelayCertificate;
        }

        // Nagle's algorithm holds the last segment of each command until the server's delayed ACK (40 ms on Linux):
        // with it off a message takes well under a millisecond on loopback instead of about 48 ms. The socket stays
        // in blocking mode, which one asynchronous call would end for good (.NET then emulates blocking over epoll),
        // so even the connect is synchronous; socket(7): SO_SNDTIMEO bounds connect(2) as well.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, SendTimeout = client.Timeout };
        var stream = new SmtpSocketStream(socket) { ReadTimeout = client.Timeout, WriteTimeout = client.Timeout };
        connection.Attach(stream);
        try
        {
            socket.Connect(_options.Smtp.Host!, _options.Smtp.Port);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.InProgress or SocketError.WouldBlock or SocketError.TimedOut)
        {
            connection.Close();
            throw new TimeoutException($"{_options.Smtp.Host}:{_options.Smtp.Port} did not accept the connection within {client.Timeout} ms.", e);
        }
        catch
        {
            connection.Close();
            throw;
        }

        client.Connect(stream, _options.Smtp.Host!, _options.Smtp.Port, security, ct);
        Interlocked.Increment(ref _connectionsOpened);
        if (!string.IsNullOrEmpty(_options.Smtp.Username))
        {
            client.Authenticate(_options.Smtp.Username, _options.Smtp.Password ?? "", ct);
        }

        connection.LastUsed = _time.GetUtcNow();
    }

    /// <summary>
    /// The system's verdict, or else a chain to <see cref="SmtpOptions.TrustedCertificatePath"/>. A host name that does
    /// not match stays refused: the setting widens whom we trust, not which host we accept it for.
    /// </summary>
    private bool AcceptRelayCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false;
        }

        using var relay = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(_trusted!);
        // A private CA or a self-signed relay publishes no revocation list.
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return custom.Build(relay);
    }

    /// <summary>
    /// The session is unusable. RFC 5321 §3.8: a 421 reply means the server is closing the connection. A disposed
    /// socket is one a cancellation closed (<see cref="PooledConnection.Abort"/>), perhaps just after its send finished.
    /// </summary>
    private static bool IsConnectionFailure(Exception e) =>
        e is IOException or SocketException or SmtpProtocolException or ServiceNotConnectedException or OperationCanceledException
            or TimeoutException or SslHandshakeException or ObjectDisposedException
            or SmtpCommandException { StatusCode: SmtpStatusCode.ServiceNotAvailable };

    private static string Stage(SmtpErrorCode code) => code switch
    {
        SmtpErrorCode.SenderNotAccepted => "MAIL FROM refused",
        SmtpErrorCode.RecipientNotAccepted => "RCPT TO refused",
        SmtpErrorCode.MessageNotAccepted => "DATA refused",
        _ => "unexpected reply",
    };

    /// <summary>One pooled SMTP session and when it last answered.</summary>
    private sealed class PooledConnection
    {
        private SmtpSocketStream? _stream;

        public TrackingSmtpClient Client { get; private set; } = new();

        public DateTimeOffset LastUsed { get; set; }

        /// <summary>The stream the client is about to connect over: <see cref="Abort"/> and <see cref="Close"/> close it.</summary>
        public void Attach(SmtpSocketStream stream) => _stream = stream;

        /// <summary>Ends a blocking call on another thread: closing the socket makes it fail at once.</summary>
        public void Abort() => Volatile.Read(ref _stream)?.Abort();

        /// <summary>QUIT when it can, then a fresh client for the next use.</summary>
        public void Close()
        {
            var client = Client;
            var stream = _stream;
            Client = new TrackingSmtpClient();
            _stream = null;
            try
            {
                if (client.IsConnected)
                {
                    // A relay that does not answer QUIT is not waited for as long as one mid-message.
                    client.Timeout = 5_000;
                    client.Disconnect(quit: true);
                }
            }
            catch (Exception e) when (IsConnectionFailure(e) || e is SmtpCommandException)
            {
                // The session is gone either way; QUIT is a courtesy (RFC 5321 §4.1.1.10).
            }
            finally
            {
                client.Dispose();
                // Also when the client never connected over it (a refused connect or greeting).
                stream?.Dispose();
            }
        }
    }

    /// <summary>An SmtpClient that says whether the relay answered MAIL FROM in the current transaction.</summary>
    private sealed class TrackingSmtpClient : SmtpClient
    {
        public bool SenderAccepted { get; set; }

        protected override void OnSenderAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)
        {
            SenderAccepted = true;
            base.OnSenderAccepted(message, mailbox, response);
        }
    }
}
