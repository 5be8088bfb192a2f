using System.Net;
using System.Net.Sockets;
using System.Text;

using NewsBot.Email;

namespace NewsBot.Tests.Email;

/// <summary>The SMTP socket stream against a plain TCP peer on loopback: what it holds back, and when it lets go.</summary>
public sealed class SmtpSocketStreamTests : IAsyncLifetime
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private SmtpSocketStream _stream = null!;
    private Socket _server = null!;

    public async Task InitializeAsync()
    {
        _listener.Start();
        var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accept = _listener.AcceptSocketAsync();
        await client.ConnectAsync((IPEndPoint)_listener.LocalEndpoint);
        _server = await accept;
        _stream = new SmtpSocketStream(client) { ReadTimeout = 5_000, WriteTimeout = 5_000 };
    }

    public Task DisposeAsync()
    {
        _stream.Dispose();
        _server.Dispose();
        _listener.Stop();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task BlocksWrittenAsMailKitWritesThem_AreHeld_UntilTheClientReadsTheReply()
    {
        var message = Encoding.ASCII.GetBytes(new string('x', 3 * 4096) + "\r\n.\r\n");
        for (var offset = 0; offset < message.Length; offset += 4096)
        {
            await _stream.WriteAsync(message.AsMemory(offset, Math.Min(4096, message.Length - offset)));
        }

        Assert.Equal(message.Length, _stream.PendingBytes);
        Assert.False(_server.Poll(TimeSpan.FromMilliseconds(100), SelectMode.SelectRead), "nothing reaches the server before the client waits for a reply");

        var reading = ReadReplyAsync();
        Assert.Equal(message, await ReceiveAsync(message.Length));
        await _server.SendAsync("250 2.0.0 Ok\r\n"u8.ToArray());
        Assert.Equal("250 2.0.0 Ok\r\n", await reading);
        Assert.Equal(0, _stream.PendingBytes);
    }

    [Fact]
    public async Task AMessageEndingOnABlockBoundary_IsSentByTheRead_WhenMailKitsFlushHasNothingLeftToWrite()
    {
        // SmtpStream.FlushAsync returns without flushing its inner stream when its own buffer is empty, which it is
        // after writing an exact multiple of its 4 KB block: the read must send what is held.
        var blocks = Encoding.ASCII.GetBytes(new string('y', 2 * 4096));
        await _stream.WriteAsync(blocks.AsMemory(0, 4096));
        await _stream.WriteAsync(blocks.AsMemory(4096, 4096));

        var reading = ReadReplyAsync();
        Assert.Equal(blocks, await ReceiveAsync(blocks.Length));
        await _server.SendAsync("354 go ahead\r\n"u8.ToArray());
        Assert.Equal("354 go ahead\r\n", await reading);
    }

    [Fact]
    public async Task AFlush_SendsWhatIsHeld_AndAWriteLargerThanTheBuffer_GoesOutWhole_InOrder()
    {
        var command = "MAIL FROM:<a@example.org>\r\n"u8.ToArray();
        await _stream.WriteAsync(command);
        await _stream.FlushAsync();
        Assert.Equal(command, await ReceiveAsync(command.Length));

        var head = "DATA-HEAD"u8.ToArray();
        var large = new byte[SmtpSocketStream.BufferSize + 1000];
        new Random(7).NextBytes(large);
        await _stream.WriteAsync(head);
        await _stream.WriteAsync(large);
        await _stream.FlushAsync();

        var received = await ReceiveAsync(head.Length + large.Length);
        Assert.Equal(head.Concat(large), received);
        Assert.Equal(0, _stream.PendingBytes);
    }

    [Fact]
    public async Task AServerThatNeverAnswers_GivesATimeoutException_AfterReadTimeout()
    {
        _stream.ReadTimeout = 300;
        await _stream.WriteAsync("NOOP\r\n"u8.ToArray());

        var error = await Assert.ThrowsAsync<TimeoutException>(() => _stream.ReadAsync(new byte[64]).AsTask());
        Assert.Contains("300 ms", error.Message, StringComparison.Ordinal);
        var sent = await ReceiveAsync(6);
        Assert.Equal("NOOP\r\n"u8.ToArray(), sent);
    }

    [Fact]
    public async Task TheCallersCancellation_IsACancellation_NotATimeout()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _stream.ReadAsync(new byte[64], cancel.Token).AsTask());
    }

    [Fact]
    public async Task OnABlockingSocket_TheSynchronousCalls_HoldWritesUntilTheRead_AndASilentServerTimesOut()
    {
        var (client, server) = await ConnectBlockingAsync();
        using var _ = server;
        using var stream = new SmtpSocketStream(client) { ReadTimeout = 300, WriteTimeout = 5_000 };
        var message = Encoding.ASCII.GetBytes(new string('z', 3 * 4096) + "\r\n.\r\n");
        for (var offset = 0; offset < message.Length; offset += 4096)
        {
            stream.Write(message, offset, Math.Min(4096, message.Length - offset));
        }

        Assert.Equal(message.Length, stream.PendingBytes);
        Assert.False(server.Poll(TimeSpan.FromMilliseconds(100), SelectMode.SelectRead), "nothing reaches the server before the client waits for a reply");
        await server.SendAsync("250 2.0.0 Ok\r\n"u8.ToArray());

        var reply = new byte[64];
        var read = stream.Read(reply, 0, reply.Length);

        Assert.Equal("250 2.0.0 Ok\r\n", Encoding.ASCII.GetString(reply, 0, read));
        Assert.Equal(message, await ReceiveAsync(server, message.Length));
        Assert.True(client.Blocking);
        var error = Assert.Throws<TimeoutException>(() => stream.Read(reply, 0, reply.Length));
        Assert.Contains("300 ms", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Abort_EndsABlockingReadOnAnotherThread()
    {
        var (client, server) = await ConnectBlockingAsync();
        using var _ = server;
        using var stream = new SmtpSocketStream(client);
        var reading = Task.Run(() => stream.Read(new byte[64], 0, 64));
        await Task.Delay(200);
        Assert.False(reading.IsCompleted, "the server sent nothing, so the read still waits");

        stream.Abort();

        // A closed socket ends the read with end-of-stream or an error; without Abort it would wait for ever.
        try
        {
            Assert.Equal(0, await reading.WaitAsync(TimeSpan.FromSeconds(10)));
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The other way a closed socket ends a blocking read.
        }
    }

    /// <summary>A client socket connected synchronously, so it stays in blocking mode, and the server's end.</summary>
    private async Task<(Socket Client, Socket Server)> ConnectBlockingAsync()
    {
        var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accept = _listener.AcceptSocketAsync();
        client.Connect((IPEndPoint)_listener.LocalEndpoint);
        return (client, await accept);
    }

    private async Task<string> ReadReplyAsync()
    {
        var buffer = new byte[256];
        var read = await _stream.ReadAsync(buffer);
        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    private Task<byte[]> ReceiveAsync(int count) => ReceiveAsync(_server, count);

    private static async Task<byte[]> ReceiveAsync(Socket server, int count)
    {
        var received = new byte[count];
        var total = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (total < count)
        {
            var read = await server.ReceiveAsync(received.AsMemory(total), SocketFlags.None, timeout.Token);
            Assert.NotEqual(0, read);
            total += read;
        }

        return received;
    }
}
