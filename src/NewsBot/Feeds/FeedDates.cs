using System.Globalization;

namespace NewsBot.Feeds;

/// <summary>Lenient feed date parsing: RFC 822/1123 as found in RSS, ISO 8601/RFC 3339 as in Atom and JSON Feed.</summary>
public static class FeedDates
{
    private static readonly string[] IsoFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd HH:mm:ssK",
        "yyyy-MM-dd HH:mmK",
        "yyyy-MM-dd",
        "yyyyMMdd'T'HHmmssK",
        "yyyyMMdd",
        "yyyy-MM",
        "yyyy",
    ];

    /// <summary>The instant the text names, or null when it names none; never throws.</summary>
    public static DateTimeOffset? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var span = text.AsSpan().Trim();
        if (span.Length >= 4 && char.IsAsciiDigit(span[0]) && char.IsAsciiDigit(span[1]) && char.IsAsciiDigit(span[2]) && char.IsAsciiDigit(span[3]))
        {
            var iso = ParseIso(span);
            if (iso is not null)
            {
                return iso;
            }
        }

        return ParseRfc822(span) ?? ParseIso(span);
    }

    private static DateTimeOffset? ParseIso(ReadOnlySpan<char> span)
    {
        // RFC 3339 §5.6 allows a lowercase 't'/'z'; local dates without a zone are taken as UTC.
        Span<char> buffer = stackalloc char[Math.Min(span.Length, 64)];
        if (span.Length > 64)
        {
            return null;
        }

        span.CopyTo(buffer);
        for (var i = 0; i < buffer.Length; i++)
        {
            if (buffer[i] == 't' || buffer[i] == 'z')
            {
                buffer[i] = char.ToUpperInvariant(buffer[i]);
            }
        }

        const DateTimeStyles styles = DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces;
        if (DateTimeOffset.TryParseExact(buffer, IsoFormats, CultureInfo.InvariantCulture, styles, out var exact))
        {
            return exact;
        }

        return null;
    }

    // RFC 822 §5.1: [day ","] date month year time zone; tolerated: missing seconds, bad or missing day
    // names, two-digit years, full month names, named zones from RFC 822 and common practice.
    private static DateTimeOffset? ParseRfc822(ReadOnlySpan<char> span)
    {
        var tokens = new List<string>(8);
        foreach (var range in span.SplitAny(" ,\t\r\n"))
        {
            var token = span[range];
            if (!token.IsEmpty)
            {
                tokens.Add(token.ToString());
            }
        }

        var index = 0;
        if (index < tokens.Count && !char.IsAsciiDigit(tokens[index][0]) && ParseMonth(tokens[index]) == 0)
        {
            index++; // day name, possibly misspelt or localized
        }

        if (index + 2 >= tokens.Count)
        {
            return null;
        }

        int day;
        int month;
        if (int.TryParse(tokens[index], NumberStyles.None, CultureInfo.InvariantCulture, out day))
        {
            month = ParseMonth(tokens[index + 1]);
        }
        else
        {
            // "Oct 01 2019" (asctime-like ordering)
            month = ParseMonth(tokens[index]);
            if (!int.TryParse(tokens[index + 1], NumberStyles.None, CultureInfo.InvariantCulture, out day))
            {
                return null;
            }
        }

        if (month == 0 || !int.TryParse(tokens[index + 2], NumberStyles.None, CultureInfo.InvariantCulture, out var year))
        {
            return null;
        }

        if (tokens[index + 2].Length <= 2)
        {
            // RFC 2822 §4.3: two-digit years 00-49 are 20xx, 50-99 are 19xx.
            year += year < 50 ? 2000 : 1900;
        }

        index += 3;
        var hour = 0;
        var minute = 0;
        var second = 0;
        if (index < tokens.Count && tokens[index].Contains(':'))
        {
            var time = tokens[index].Split(':');
            if (!int.TryParse(time[0], NumberStyles.None, CultureInfo.InvariantCulture, out hour)
                || !int.TryParse(time[1], NumberStyles.None, CultureInfo.InvariantCulture, out minute)
                || (time.Length > 2 && !int.TryParse(time[2].Split('.')[0], NumberStyles.None, CultureInfo.InvariantCulture, out second)))
            {
                return null;
            }

            index++;
            if (index < tokens.Count && tokens[index].ToUpperInvariant() is "AM" or "PM")
            {
                // 12-hour clocks ("02:02:33 PM") are not RFC 822 but appear in real feeds.
                hour = hour % 12 + (tokens[index].ToUpperInvariant() == "PM" ? 12 : 0);
                index++;
            }
        }

        var offset = TimeSpan.Zero;
        if (index < tokens.Count)
        {
            var zone = ParseZone(tokens[index]);
            if (zone is null)
            {
                return null;
            }

            offset = zone.Value;
        }

        if (year is < 1 or > 9999 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 60)
        {
            return null;
        }

        var local = new DateTime(year, month, day, hour, minute, Math.Min(second, 59)); // a leap second is clamped
        var utcTicks = local.Ticks - offset.Ticks;
        if (utcTicks < DateTime.MinValue.Ticks || utcTicks > DateTime.MaxValue.Ticks)
        {
            return null; // 0001-01-01 00:00 +0100 lies before the first representable instant
        }

        return new DateTimeOffset(local, offset);
    }

    private static int ParseMonth(string token)
    {
        if (token.Length < 3)
        {
            return 0;
        }

        return token[..3].ToLowerInvariant() switch
        {
            "jan" => 1,
            "feb" => 2,
            "mar" => 3,
            "apr" => 4,
            "may" => 5,
            "jun" => 6,
            "jul" => 7,
            "aug" => 8,
            "sep" => 9,
            "oct" => 10,
            "nov" => 11,
            "dec" => 12,
            _ => 0,
        };
    }

    private static TimeSpan? ParseZone(string zone)
    {
        if ((zone[0] == '+' || zone[0] == '-') && zone.Length >= 3)
        {
            var digits = zone[1..].Replace(":", "");
            if (digits.Length is not (2 or 4) || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }

            var hours = digits.Length == 2 ? value : value / 100;
            var minutes = digits.Length == 2 ? 0 : value % 100;
            if (hours > 14 || minutes > 59)
            {
                return null;
            }

            var span = new TimeSpan(hours, minutes, 0);
            return zone[0] == '-' ? -span : span;
        }

        // RFC 822 §5.1 zones and a few common abbreviations.
        return zone.ToUpperInvariant() switch
        {
            "UT" or "UTC" or "GMT" or "Z" or "WET" => TimeSpan.Zero,
            "EST" => TimeSpan.FromHours(-5),
            "EDT" => TimeSpan.FromHours(-4),
            "CST" => TimeSpan.FromHours(-6),
            "CDT" => TimeSpan.FromHours(-5),
            "MST" => TimeSpan.FromHours(-7),
            "MDT" => TimeSpan.FromHours(-6),
            "PST" => TimeSpan.FromHours(-8),
            "PDT" => TimeSpan.FromHours(-7),
            "AKST" => TimeSpan.FromHours(-9),
            "AKDT" => TimeSpan.FromHours(-8),
            "HST" => TimeSpan.FromHours(-10),
            "AST" => TimeSpan.FromHours(-4),
            "ADT" => TimeSpan.FromHours(-3),
            "NST" => new TimeSpan(-3, -30, 0),
            "NDT" => new TimeSpan(-2, -30, 0),
            "BST" or "CET" or "MET" or "WEST" => TimeSpan.FromHours(1),
            "CEST" or "MEST" or "EET" => TimeSpan.FromHours(2),
            "EEST" or "MSK" => TimeSpan.FromHours(3),
            "IST" => new TimeSpan(5, 30, 0),
            "JST" or "KST" => TimeSpan.FromHours(9),
            "AEST" => TimeSpan.FromHours(10),
            "AEDT" => TimeSpan.FromHours(11),
            "NZST" => TimeSpan.FromHours(12),
            "NZDT" => TimeSpan.FromHours(13),
            // RFC 2822 §4.3: military zones were defined with the wrong sign; read them as -0000.
            [var letter] when char.IsAsciiLetter(letter) => TimeSpan.Zero,
            // An unknown abbreviation still names a day and time: keep it, read as UTC.
            _ when zone.All(char.IsAsciiLetter) => TimeSpan.Zero,
            _ => null,
        };
    }
}
