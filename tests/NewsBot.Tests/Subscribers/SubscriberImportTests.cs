using NewsBot.Storage;
using NewsBot.Subscribers;
using NewsBot.Tests.Posts;
using NewsBot.Tests.Storage;

namespace NewsBot.Tests.Subscribers;

public abstract class SubscriberImportTests(string provider) : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly TempDatabase _temp = new(provider);

    public void Dispose() => _temp.Dispose();

    [SkippableFact]
    public async Task ImportCsvAsync_Fixture_ImportsGoodRowsAndReportsBadOnesByLine()
    {
        var store = await CreateStoreAsync();

        using var csv = File.OpenText(TestPaths.Fixture("subscribers/import.csv"));
        var result = await store.ImportCsvAsync(csv, Ct);

        Assert.Equal(
            [
                "line 4: email 'bob@' is not an address",
                "line 6: cadence 'hourly' is not one of instant, daily, weekly, off",
                "line 7: time_zone 'Mars/Olympus_Mons' is not an IANA time zone (such as Europe/Paris or Asia/Tokyo)",
                "line 8: email 'alice@example.com' already belongs to subscriber 1",
                "line 11: telegram 'not-a-number' is not a chat id (a non-zero signed 64-bit integer)",
            ],
            result.Errors);
        Assert.Equal(6, result.Imported);
        Assert.Equal(5, result.Skipped);
        var stored = await store.ListAsync(100, 0, Ct);
        Assert.Equal(["Alice", "Telegram Only", "Carol, \"the Analyst\"", "Frank\non two lines", "Heidi", "Ivan"], stored.Select(s => s.Name));
        var carol = stored[2];
        Assert.Equal(Cadence.Weekly, carol.Cadence);
        Assert.Equal("Asia/Tokyo", carol.TimeZone);
        Assert.Equal(["russia", "ukraine"], carol.Topics);
        Assert.Equal(["email carol@example.com", "telegram -1001234567890"], carol.Channels.Select(c => $"{c.Channel} {c.Address}"));
        var telegramOnly = stored[1];
        Assert.Equal((Cadence.Instant, "UTC"), (telegramOnly.Cadence, telegramOnly.TimeZone));
        Assert.Empty(telegramOnly.Topics);
        Assert.Equal(["nuclear", "sanctions"], stored[0].Topics);
        Assert.Equal(Cadence.Off, stored[3].Cadence);
    }

    [SkippableFact]
    public async Task ImportCsvAsync_SameFileTwice_ImportsNothingTheSecondTime()
    {
        var store = await CreateStoreAsync();
        const string csv = "telegram,email\n11,a@example.com\n12,b@example.com\n";
        await store.ImportCsvAsync(new StringReader(csv), Ct);

        var again = await store.ImportCsvAsync(new StringReader(csv), Ct);

        Assert.Equal(0, again.Imported);
        Assert.Equal(["line 2: email 'a@example.com' already belongs to subscriber 1", "line 3: email 'b@example.com' already belongs to subscriber 2"], again.Errors);
        Assert.Equal(2, await store.CountAsync(Ct));
    }

    [SkippableFact]
    public async Task ImportCsvAsync_ManyRows_CommitsAcrossBatchesAroundBadRows()
    {
        var store = await CreateStoreAsync();
        var csv = new System.Text.StringBuilder("email,cadence\r\n");
        for (var i = 1; i <= 2500; i++)
        {
            csv.Append(i % 1000 == 0 ? "broken" : $"r{i}@example.com").Append(",daily\r\n");
        }

        var result = await store.ImportCsvAsync(new StringReader(csv.ToString()), Ct);

        Assert.Equal(2498, result.Imported);
        Assert.Equal(["line 1001: email 'broken' is not an address", "line 2001: email 'broken' is not an address"], result.Errors);
        Assert.Equal(2498, await store.CountAsync(Ct));
    }

    [SkippableTheory]
    [InlineData("email,phone\n", "line 1: unknown column 'phone'; columns: email, telegram, topics, cadence, time_zone, name")]
    [InlineData("name,cadence\n", "line 1: no email and no telegram column")]
    [InlineData("email,Email\n", "line 1: column 'email' appears twice")]
    [InlineData("", "the file is empty")]
    public async Task ImportCsvAsync_BadHeader_Throws(string csv, string message)
    {
        var store = await CreateStoreAsync();

        var error = await Assert.ThrowsAsync<SubscriberException>(() => store.ImportCsvAsync(new StringReader(csv), Ct));

        Assert.StartsWith(message, error.Message);
    }

    [SkippableFact]
    public async Task ImportCsvAsync_MalformedRecords_AreReportedAndTheRestImported()
    {
        var store = await CreateStoreAsync();
        const string csv = "email,name\n\"a@example.com\"x,A\nb@example.com\nc@example.com,C\nd@example.com,\"never closed\n";

        var result = await store.ImportCsvAsync(new StringReader(csv), Ct);

        Assert.Equal(
            [
                "line 2: field 1 has text after its closing quote",
                "line 3: 1 fields, but the header has 2",
                "line 5: field 2 opens a quote that is never closed",
            ],
            result.Errors);
        Assert.Equal(1, result.Imported);
    }

    private async Task<SubscriberStore> CreateStoreAsync() =>
        new(await _temp.OpenMigratedAsync(), new ManualTime(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero)));
}

public sealed class SubscriberImportSqliteTests() : SubscriberImportTests(Db.SqliteProvider);

public sealed class SubscriberImportPostgresqlTests() : SubscriberImportTests(Db.PostgresqlProvider);
