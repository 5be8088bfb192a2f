using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

using MimeKit;

using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace NewsBot.Tests.Email;

/// <summary>One message the server took: the envelope and the message as received.</summary>
public sealed record ReceivedMail(string MailFrom, IReadOnlyList<string> RcptTo, byte[] Data, bool OverTls = false)
{
    public MimeMessage Parse() => MimeMessage.Load(new MemoryStream(Data));
}

/// <summary>
/// A real SMTP server (the SmtpServer package) on a loopback port, for the email channel's tests. On cue it refuses
/// a recipient with a 4yz or 5yz reply, refuses every sender, or drops the connection after a number of messages.
/// With a certificate it offers STARTTLS (RFC 3207), or speaks TLS from the start (RFC 8314 §3.3, port 465 style).
/// </summary>
public sealed class SmtpTestServer : IAsyncDisposable, IMessageStore, IMailboxFilter, IUserAuthenticator
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<ReceivedMail> _received = new();
    private readonly ConcurrentQueue<SmtpResponse> _closingReplies = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<SmtpResponse>> _recipientReplies = new(StringComparer.OrdinalIgnoreCase);
    private readonly SmtpServer.SmtpServer _server;
    private readonly Task _running;
    private int _sessions;
    private int _dropAfter = int.MaxValue;
    private int _accepted;
    private int _authenticated;

    private SmtpTestServer(int port, X509Certificate2? certificate, bool implicitTls)
    {
        Port = port;
        var options = new SmtpServerOptionsBuilder()
            .ServerName("smtp.test")
            .Endpoint(b =>
            {
                b.Endpoint(new IPEndPoint(IPAddress.Loopback, port)).AllowUnsecureAuthentication(true);
                if (certificate is not null)
                {
                    b.Certificate(certificate).IsSecure(implicitTls);
                }
            })
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add((IMessageStore)this);
        services.Add((IMailboxFilter)this);
        services.Add((IUserAuthenticator)this);
        _server = new SmtpServer.SmtpServer(options, services);
        _server.SessionCreated += (_, e) =>
        {
            e.Context.CommandExecuting += (_, c) =>
            {
                // A session of a client, not the start-up probe: it says EHLO (or HELO).
                if (c.Command.Name is "EHLO" or "HELO")
                {
                    Interlocked.Increment(ref _sessions);
                }

                // The cue: after the n-th accepted message, the connection dies before the next command is answered.
                if (e.Context.Properties.ContainsKey("drop"))
                {
                    e.Context.Pipe.Dispose();
                }
            };
        };
        _running = _server.StartAsync(_stop.Token);
    }

    public int Port { get; }

    /// <summary>SMTP sessions opened by clients.</summary>
    public int Sessions => Volatile.Read(ref _sessions);

    public IReadOnlyList<ReceivedMail> Received => [.. _received];

    /// <summary>AUTH succeeds with this user and password only; until set, any credentials pass.</summary>
    public (string User, string Password)? Credentials { get; set; }

    /// <summary>Sessions that authenticated.</summary>
    public int Authenticated => Volatile.Read(ref _authenticated);

    /// <summary>Every MAIL FROM gets this reply instead of 250 (a relay that blocked the account).</summary>
    public SmtpResponse? SenderReply { get; set; }

    /// <param name="certificate">Its certificate, with the private key: STARTTLS is offered, or TLS is spoken from the start.</param>
    /// <param name="implicitTls">TLS from the first byte instead of STARTTLS.</param>
    public static async Task<SmtpTestServer> StartAsync(X509Certificate2? certificate = null, bool implicitTls = false)
    {
        var server = new SmtpTestServer(TestHost.FreePort(), certificate, implicitTls);
        await server.WaitListeningAsync();
        return server;
    }

    /// <summary>The next RCPT TO for <paramref name="address"/> gets <paramref name="code"/> (once per call).</summary>
    public void ReplyToRecipient(string address, int code, string text) =>
        _recipientReplies.GetOrAdd(address, _ => new ConcurrentQueue<SmtpResponse>()).Enqueue(new SmtpResponse((SmtpReplyCode)code, text));

    /// <summary>After <paramref name="messages"/> more accepted messages the connection that took the last one is dropped.</summary>
    public void DropConnectionAfter(int messages) => Volatile.Write(ref _dropAfter, Volatile.Read(ref _accepted) + messages);

    public Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        _received.Enqueue(new ReceivedMail(transaction.From.AsAddress(), [.. transaction.To.Select(t => t.AsAddress())], buffer.ToArray(), context.Pipe.IsSecure));
        if (Interlocked.Increment(ref _accepted) == Volatile.Read(ref _dropAfter))
        {
            context.Properties["drop"] = true;
        }

        return Task.FromResult(SmtpResponse.Ok);
    }

    /// <summary>The next MAIL FROM gets <paramref name="code"/>, then the server closes the connection (RFC 5321 §3.8: 421).</summary>
    public void ReplyToNextSenderAndClose(int code, string text) => _closingReplies.Enqueue(new SmtpResponse((SmtpReplyCode)code, text));

    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        if (_closingReplies.TryDequeue(out var closing))
        {
            throw new SmtpResponseException(closing, true);
        }

        return SenderReply is { } reply ? throw new SmtpResponseException(reply) : Task.FromResult(true);
    }

    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        if (_recipientReplies.TryGetValue(to.AsAddress(), out var replies) && replies.TryDequeue(out var reply))
        {
            throw new SmtpResponseException(reply);
        }

        return Task.FromResult(true);
    }

    public Task<bool> AuthenticateAsync(ISessionContext context, string user, string password, CancellationToken cancellationToken)
    {
        var ok = Credentials is not { } expected || (expected.User == user && expected.Password == password);
        if (ok)
        {
            Interlocked.Increment(ref _authenticated);
        }

        return Task.FromResult(ok);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _server.Shutdown();
        try
        {
            await _running.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (OperationCanceledException)
        {
            // Stopping is what we asked for.
        }

        _stop.Dispose();
    }

    private async Task WaitListeningAsync()
    {
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(20);
            }
        }

        throw new InvalidOperationException($"The test SMTP server did not listen on port {Port}.");
    }
}
