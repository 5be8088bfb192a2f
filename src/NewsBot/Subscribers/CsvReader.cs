using System.Text;

namespace NewsBot.Subscribers;

/// <summary>One CSV record: its fields and the physical line it starts on (1-based), or why it is malformed.</summary>
internal sealed record CsvRecord(int Line, IReadOnlyList<string> Fields, string? Error);

/// <summary>
/// Reads RFC 4180 records: fields separated by commas, records by CRLF, LF or CR; a field in double quotes may hold
/// commas, line breaks and doubled quotes (RFC 4180 §2.5-2.7). Line numbers count physical lines, so a record
/// after a quoted line break is reported on the line an editor shows. A malformed record is returned with an
/// error and reading goes on with the next one.
/// </summary>
internal sealed class CsvReader(TextReader reader)
{
    private readonly char[] _buffer = new char[8192];
    private int _position;
    private int _length;
    private int _line = 1;

    /// <summary>The next record, or null at the end of the input.</summary>
    public async Task<CsvRecord?> ReadAsync(CancellationToken ct)
    {
        if (!await FillAsync(ct))
        {
            return null;
        }

        var line = _line;
        var fields = new List<string>();
        var field = new StringBuilder();
        string? error = null;
        var inQuotes = false;
        var afterQuote = false;
        while (await FillAsync(ct))
        {
            var c = _buffer[_position++];
            if (inQuotes)
            {
                if (c == '"')
                {
                    // RFC 4180 §2.7: a quote inside a quoted field is written twice.
                    if (await FillAsync(ct) && _buffer[_position] == '"')
                    {
                        _position++;
                        field.Append('"');
                    }
                    else
                    {
                        inQuotes = false;
                        afterQuote = true;
                    }

                    continue;
                }

                if (c == '\n' || (c == '\r' && !(await FillAsync(ct) && _buffer[_position] == '\n')))
                {
                    _line++;
                }

                field.Append(c);
                continue;
            }

            if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
                afterQuote = false;
                continue;
            }

            if (c is '\r' or '\n')
            {
                if (c == '\r' && await FillAsync(ct) && _buffer[_position] == '\n')
                {
                    _position++;
                }

                _line++;
                fields.Add(field.ToString());
                return new CsvRecord(line, fields, error);
            }

            if (c == '"' && field.Length == 0 && !afterQuote)
            {
                inQuotes = true;
                continue;
            }

            if (afterQuote)
            {
                error ??= $"field {fields.Count + 1} has text after its closing quote";
            }

            field.Append(c);
        }

        if (inQuotes)
        {
            error ??= $"field {fields.Count + 1} opens a quote that is never closed";
        }

        fields.Add(field.ToString());
        return new CsvRecord(line, fields, error);
    }

    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        if (_position < _length)
        {
            return true;
        }

        _length = await reader.ReadAsync(_buffer.AsMemory(), ct);
        _position = 0;
        return _length > 0;
    }
}
