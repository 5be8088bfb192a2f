using System.Buffers;
using System.Net.Sockets;

namespace NewsBot.Email;

/// <summary>
/// The SMTP connection's socket as MailKit's stream, holding back what MailKit writes until it flushes or reads.
/// MailKit writes a message in 4 KB blocks, and with Nagle's algorithm off (see <see cref="EmailChannel"/>) each
/// block is its own system call and TCP segment: seven for a 25 KB digest. SMTP is request and reply (RFC 5321
/// §4.3; with PIPELINING, RFC 2920 §3.1, still a group of commands then their replies), so whatever was written must
/// be on the wire before the client waits for a reply: a read sends what is held, and so does a flush or a full
/// buffer. A message then goes out in one call. Reads and writes give up after <see cref="ReadTimeout"/> and
/// <see cref="WriteTimeout"/> (<c>NewsBot:Email:Smtp:Timeout</c>) with a <see cref="TimeoutException"/>, as MailKit's
/// own socket stream does. The synchronous methods are the ones <see cref="EmailChannel"/> uses, on a socket left in
/// blocking mode (see there why); the asynchronous ones are complete for any other caller.
/// </summary>
public sealed class SmtpSocketStream : Stream
{
    /// <summary>Above a typical digest (25 KB) and TLS's largest record (16 KB, RFC 8446 §5.1) with its overhead.</summary>
    public const int BufferSize = 64 * 1024;

    private readonly Socket _socket;
    private byte[] _pending = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _count;
    private bool _disposed;

    public SmtpSocketStream(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
    }

    /// <summary>How many bytes are written but not yet sent.</summary>
    public int PendingBytes => _count;

    public override bool CanRead => !_disposed;

    public override bool CanWrite => !_disposed;

    public override bool CanSeek => false;

    public override bool CanTimeout => true;

    /// <summary>Milliseconds; <see cref="Timeout.Infinite"/> (the default) waits for ever.</summary>
    public override int ReadTimeout
    {
        get;
        set
        {
            // socket(7) SO_RCVTIMEO: set once here, not per read, since each setting is a system call.
            _socket.ReceiveTimeout = SocketTimeout(value);
            field = value;
        }
    } = Timeout.Infinite;

    /// <inheritdoc cref="ReadTimeout"/>
    public override int WriteTimeout
    {
        get;
        set
        {
            _socket.SendTimeout = SocketTimeout(value);
            field = value;
        }
    } = Timeout.Infinite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken);
        using var timeout = Deadline(ReadTimeout, cancellationToken);
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout?.Token ?? cancellationToken);
        }
        catch (OperationCanceledException) when (timeout is not null && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The SMTP server sent nothing for {ReadTimeout} ms.");
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        Flush();
        try
        {
            return _socket.Receive(buffer, SocketFlags.None);
        }
        catch (SocketException e) when (IsTimeout(e))
        {
            throw new TimeoutException($"The SMTP server sent nothing for {ReadTimeout} ms.", e);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_count + buffer.Length > _pending.Length)
        {
            await FlushAsync(cancellationToken);
            if (buffer.Length > _pending.Length)
            {
                await SendAsync(buffer, cancellationToken);
                return;
            }
        }

        buffer.Span.CopyTo(_pending.AsSpan(_count));
        _count += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_count + buffer.Length > _pending.Length)
        {
            Flush();
            if (buffer.Length > _pending.Length)
            {
                SendAll(buffer);
                return;
            }
        }

        buffer.CopyTo(_pending.AsSpan(_count));
        _count += buffer.Length;
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_count == 0)
        {
            return;
        }

        // Cleared first: after a failed send the session is dropped, and nothing held is sent twice.
        var count = _count;
        _count = 0;
        await SendAsync(_pending.AsMemory(0, count), cancellationToken);
    }

    public override void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_count == 0)
        {
            return;
        }

        var count = _count;
        _count = 0;
        SendAll(_pending.AsSpan(0, count));
    }

    /// <summary>
    /// Closes the socket from another thread, which makes a blocking read or write on it fail at once. The buffer
    /// stays until <see cref="Stream.Dispose()"/> on the thread that uses the stream, which may still be writing to it.
    /// </summary>
    public void Abort() => _socket.Dispose();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _socket.Dispose();
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = [];
            _count = 0;
        }

        base.Dispose(disposing);
    }

    private async Task SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        using var timeout = Deadline(WriteTimeout, cancellationToken);
        try
        {
            while (!data.IsEmpty)
            {
                var sent = await _socket.SendAsync(data, SocketFlags.None, timeout?.Token ?? cancellationToken);
                data = data[sent..];
            }
        }
        catch (OperationCanceledException) when (timeout is not null && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The SMTP server took nothing for {WriteTimeout} ms.");
        }
    }

    private void SendAll(ReadOnlySpan<byte> data)
    {
        try
        {
            while (!data.IsEmpty)
            {
                data = data[_socket.Send(data, SocketFlags.None)..];
            }
        }
        catch (SocketException e) when (IsTimeout(e))
        {
            throw new TimeoutException($"The SMTP server took nothing for {WriteTimeout} ms.", e);
        }
    }

    /// <summary>A stream's timeout as a socket's: the socket says "for ever" with 0.</summary>
    private static int SocketTimeout(int milliseconds) => milliseconds == Timeout.Infinite ? 0 : milliseconds;

    /// <summary>socket(7): a blocking call that reaches SO_RCVTIMEO or SO_SNDTIMEO fails with EAGAIN.</summary>
    private static bool IsTimeout(SocketException e) => e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock;

    private static CancellationTokenSource? Deadline(int milliseconds, CancellationToken cancellationToken)
    {
        if (milliseconds == Timeout.Infinite)
        {
            return null;
        }

        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(milliseconds);
        return source;
    }
}
