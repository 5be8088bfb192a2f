using System.Data.Common;
using System.Globalization;

namespace NewsBot.Storage;

/// <summary>
/// The little ADO.NET the stores need. Timestamps are stored as fixed-width ISO-8601 UTC text with milliseconds
/// (<c>2026-11-28T14:05:09.123Z</c>): portable to PostgreSQL, readable in any SQL shell, and, being fixed-width UTC,
/// text order is time order, so <c>ORDER BY</c> and <c>coalesce(published, first_seen)</c> sort correctly.
/// </summary>
public static class DbExtensions
{
    private const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string FormatTimestamp(DateTimeOffset value)
    {
        return value.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);
    }

    public static DateTimeOffset ParseTimestamp(string text)
    {
        if (!DateTimeOffset.TryParseExact(
                text, TimestampFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
        {
            throw new FormatException($"Stored timestamp '{text}' is not in the format {TimestampFormat}.");
        }

        return value;
    }

    public static DbCommand CreateCommand(this DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    /// <summary>Adds <paramref name="name"/> (without the <c>@</c>); null becomes SQL NULL.</summary>
    public static DbParameter AddParameter(this DbCommand command, string name, object? value)
    {
        var parameter = NameParameter(command.CreateParameter(), name, value);
        command.Parameters.Add(parameter);
        return parameter;
    }

    /// <summary>As <see cref="AddParameter(DbCommand, string, object?)"/>, for one command of a <see cref="DbBatch"/>.</summary>
    public static DbParameter AddParameter(this DbBatchCommand command, string name, object? value)
    {
        var parameter = NameParameter(command.CreateParameter(), name, value);
        command.Parameters.Add(parameter);
        return parameter;
    }

    /// <summary>Sets a parameter added earlier, for commands prepared once and run many times.</summary>
    public static void SetParameter(this DbCommand command, string name, object? value)
    {
        command.Parameters[name].Value = ToDbValue(value);
    }

    public static string? GetNullableString(this DbDataReader reader, int ordinal)
    {
        return reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
    }

    public static DateTimeOffset GetTimestamp(this DbDataReader reader, int ordinal)
    {
        return ParseTimestamp(reader.GetString(ordinal));
    }

    public static DateTimeOffset? GetNullableTimestamp(this DbDataReader reader, int ordinal)
    {
        return reader.IsDBNull(ordinal) ? null : ParseTimestamp(reader.GetString(ordinal));
    }

    private static DbParameter NameParameter(DbParameter parameter, string name, object? value)
    {
        parameter.ParameterName = name;
        parameter.Value = ToDbValue(value);
        return parameter;
    }

    private static object ToDbValue(object? value)
    {
        return value switch
        {
            null => DBNull.Value,
            DateTimeOffset timestamp => FormatTimestamp(timestamp),
            _ => value,
        };
    }
}
