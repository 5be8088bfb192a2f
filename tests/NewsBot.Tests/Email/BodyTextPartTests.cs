using MimeKit;

using NewsBot.Email;

namespace NewsBot.Tests.Email;

/// <summary><see cref="BodyTextPart"/> prepares a body exactly as MimeKit's own text part would, and writes the same bytes.</summary>
public sealed class BodyTextPartTests
{
    public static TheoryData<string, string> Bodies => new()
    {
        { "ascii lines", "<p>Sanctions widen</p>\n<p>Second line</p>\n" },
        { "japanese", "<p>日本の安全保障と制裁</p>\n<p>二行目</p>" },
        { "a 998-octet ascii line", new string('a', 998) },
        { "a 999-octet ascii line", new string('a', 999) },
        { "a long japanese line (333 chars = 999 octets)", new string('語', 333) },
        { "japanese within 998 octets", new string('語', 332) },
        { "an mbox From line", "Hello\nFrom here on, news\n" },
        { "a CR LF body", "line one\r\nline two\r\n" },
        { "a NUL", "before\0after" },
        { "empty", "" },
        { "an emoji (surrogate pairs)", "<p>Breaking 🚨 news</p>" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Prepare_GivesMimeKitsEncoding_ForEveryConstraintAndLineLength(string name, string text)
    {
        foreach (var constraint in new[] { EncodingConstraint.EightBit, EncodingConstraint.SevenBit, EncodingConstraint.None })
        {
            foreach (var maxLineLength in new[] { 78, 998 })
            {
                using var expected = new TextPart("html") { Text = text };
                using var actual = new BodyTextPart("html", text);

                expected.Prepare(constraint, maxLineLength);
                actual.Prepare(constraint, maxLineLength);

                Assert.True(expected.ContentTransferEncoding == actual.ContentTransferEncoding,
                    $"{name}, {constraint}, {maxLineLength}: MimeKit {expected.ContentTransferEncoding}, BodyTextPart {actual.ContentTransferEncoding}");
                Assert.Equal(Write(expected), Write(actual));
            }
        }
    }

    [Fact]
    public void Scan_LeavesToMimeKit_WhatItCannotAnswerFromTheString()
    {
        Assert.True(BodyTextPart.Scan("plain\nascii", 78));
        Assert.False(BodyTextPart.Scan("日本", 78));
        Assert.Null(BodyTextPart.Scan(new string('x', 79), 78));
        Assert.Null(BodyTextPart.Scan("From me", 998));
        Assert.Null(BodyTextPart.Scan("a\rb", 998));
    }

    private static string Write(MimeEntity part)
    {
        using var stream = new MemoryStream();
        part.WriteTo(FormatOptions.Default, stream, contentOnly: false);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
