using System.Globalization;
using System.Text;
using System.Text.Json;

using MimeKit;

using NewsBot.Email;
using NewsBot.Subscribers;

namespace NewsBot.Delivery;

/// <summary>
/// The channel used while no real one is configured: each message becomes a file in <c>&lt;DataDirectory&gt;/outbox</c>,
/// an RFC 5322 <c>.eml</c> for email or the Bot API <c>sendMessage</c> body as <c>.json</c> for Telegram. The file is
/// named after the idempotency key and appears atomically, so a file that exists is a message already sent: a
/// re-send after a crash writes nothing twice.
/// </summary>
public sealed class OutboxChannel : IChannel
{
    private readonly string _directory;
    private readonly EmailComposer _composer;

    /// <param name="name"><see cref="Channels.Email"/> or <see cref="Channels.Telegram"/>.</param>
    /// <param name="directory">The outbox folder, created on first send.</param>
    /// <param name="composer">Makes the <c>.eml</c> exactly as the SMTP channel would send it.</param>
    /// <param name="messagesPerSecond">The rate a send's ETA assumes (<c>NewsBot:Delivery:OutboxRatePerSecond</c>).</param>
    public OutboxChannel(string name, string directory, EmailComposer composer, double messagesPerSecond)
    {
        if (name is not (Channels.Email or Channels.Telegram))
        {
            throw new ArgumentException($"The outbox serves the channels email and telegram, not '{name}'.", nameof(name));
        }

        Name = name;
        MessagesPerSecond = messagesPerSecond;
        _directory = directory;
        _composer = composer;
    }

    public string Name { get; }

    public double MessagesPerSecond { get; }

    /// <summary>The file a message goes to; a key of letters, digits and <c>:</c> maps to a distinct file name.</summary>
    public string PathFor(string idempotencyKey)
    {
        var name = new StringBuilder(idempotencyKey.Length);
        foreach (var c in idempotencyKey)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_');
        }

        return Path.Combine(_directory, name.Append(Name == Channels.Email ? ".eml" : ".json").ToString());
    }

    public async Task<ChannelResult> SendAsync(OutgoingMessage message, CancellationToken ct)
    {
        var path = PathFor(message.IdempotencyKey);
        if (File.Exists(path))
        {
            return ChannelResult.Sent;
        }

        byte[] content;
        if (Name == Channels.Email)
        {
            if (EmailComposer.ParseRecipient(message.Address) is not { } to)
            {
                return new ChannelResult(ChannelOutcome.FailedPermanent, $"'{message.Address}' is not an email address");
            }

            content = await FormatEmailAsync(message, to, ct);
        }
        else
        {
            if (!long.TryParse(message.Address, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var chatId))
            {
                return new ChannelResult(ChannelOutcome.FailedPermanent, $"'{message.Address}' is not a Telegram chat id");
            }

            // https://core.telegram.org/bots/api#sendmessage
            content = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["chat_id"] = chatId,
                ["text"] = message.Body,
                ["parse_mode"] = "HTML",
            });
        }

        Directory.CreateDirectory(_directory);
        var temp = Path.Combine(_directory, $".{Guid.NewGuid():N}.tmp");
        await File.WriteAllBytesAsync(temp, content, ct);
        try
        {
            // A rename within one folder is atomic; without overwrite it fails when a concurrent send won the race.
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
        }

        return ChannelResult.Sent;
    }

    private async Task<byte[]> FormatEmailAsync(OutgoingMessage message, MailboxAddress to, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        using var email = _composer.Compose(message, to);
        await email.WriteToAsync(buffer, ct);
        return buffer.ToArray();
    }
}
