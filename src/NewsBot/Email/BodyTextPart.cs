using System.Text;

using MimeKit;

namespace NewsBot.Email;

/// <summary>
/// A message's text or HTML body (UTF-8, as <c>BodyBuilder</c> makes it) that answers <see cref="Prepare"/> from its
/// string when the answer is plain: MimeKit's own check encodes the body and runs it byte by byte through its
/// best-encoding filter, about a tenth of the CPU of sending a 25 KB digest. The answer is MimeKit's
/// (<c>MimePart.Prepare</c>, <c>BestEncodingFilter.GetBestEncoding</c>): no NUL, every line within
/// <c>maxLineLength</c> octets and none an mbox <c>From </c> line, then 7bit for ASCII and 8bit otherwise where the
/// relay takes 8-bit (RFC 6152). Anything else (a CR, a long line, 7-bit only with non-ASCII text) goes to MimeKit.
/// </summary>
internal sealed class BodyTextPart : TextPart
{
    private readonly string _text;

    public BodyTextPart(string subtype, string text)
        : base(subtype)
    {
        _text = text;
        Text = text;
    }

    public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
    {
        if (ContentTransferEncoding == ContentEncoding.Default && Scan(_text, maxLineLength) is { } ascii)
        {
            if (ascii)
            {
                return;
            }

            if (constraint != EncodingConstraint.SevenBit)
            {
                ContentTransferEncoding = ContentEncoding.EightBit;
                return;
            }
        }

        base.Prepare(constraint, maxLineLength);
    }

    /// <summary>Whether the text is ASCII, when every line fits as it is; null when MimeKit must decide.</summary>
    internal static bool? Scan(string text, int maxLineLength)
    {
        var rest = text.AsSpan();
        if (rest.IndexOfAny('\0', '\r') >= 0)
        {
            return null;
        }

        var ascii = true;
        while (true)
        {
            var end = rest.IndexOf('\n');
            var line = end < 0 ? rest : rest[..end];
            if (line.StartsWith("From ", StringComparison.Ordinal))
            {
                return null;
            }

            // A char is at most 3 UTF-8 octets (a surrogate pair 4 for 2 chars); count exactly only when it matters.
            if (!System.Text.Ascii.IsValid(line))
            {
                ascii = false;
                if (line.Length * 3 > maxLineLength && Encoding.UTF8.GetByteCount(line) > maxLineLength)
                {
                    return null;
                }
            }
            else if (line.Length > maxLineLength)
            {
                return null;
            }

            if (end < 0)
            {
                return ascii;
            }

            rest = rest[(end + 1)..];
        }
    }
}
