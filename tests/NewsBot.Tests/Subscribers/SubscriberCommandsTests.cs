using System.Text.Json;

using NewsBot.Subscribers;

namespace NewsBot.Tests.Subscribers;

public sealed class SubscriberCommandsTests : IDisposable
{
    private readonly TestHost host = TestHost.Create();

    public void Dispose() => host.Dispose();

    [Theory]
    [InlineData("add")]
    [InlineData("list")]
    [InlineData("import")]
    [InlineData("suppress")]
    public async Task EveryVerbHasHelp(string verb)
    {
        var (exitCode, output, _) = await host.RunCliAsync("subscribers", verb, "--help");

        Assert.Equal(0, exitCode);
        Assert.Contains("Usage:", output);
        Assert.Contains($"subscribers {verb}", output);
    }

    [Fact]
    public async Task Add_ThenListJson_ShowsTheSubscriber()
    {
        var (exitCode, output, error) = await host.RunCliAsync(
            "subscribers", "add", "--email", "Alice@Example.com", "--telegram", "-100500", "--topics", "North Korea,sanctions",
            "--cadence", "daily", "--time-zone", "Asia/Tokyo", "--name", "Alice");
        var (listExit, listed, _) = await host.RunCliAsync("subscribers", "list", "--json");

        Assert.Equal("", error);
        Assert.Equal(0, exitCode);
        Assert.Contains("#1  daily  Asia/Tokyo  email alice@example.com, telegram -100500  [north-korea, sanctions]  Alice", output);
        Assert.Equal(0, listExit);
        var subscriber = Assert.Single(JsonDocument.Parse(listed).RootElement.GetProperty("subscribers").EnumerateArray());
        Assert.Equal(1, subscriber.GetProperty("id").GetInt64());
        Assert.Equal("daily", subscriber.GetProperty("cadence").GetString());
        Assert.Equal(["north-korea", "sanctions"], subscriber.GetProperty("topics").EnumerateArray().Select(t => t.GetString()));
        var channels = subscriber.GetProperty("channels").EnumerateArray().Select(c => $"{c.GetProperty("channel")}:{c.GetProperty("address")}:{c.GetProperty("status")}");
        Assert.Equal(["email:alice@example.com:active", "telegram:-100500:active"], channels);
        Assert.Equal(JsonValueKind.Null, subscriber.GetProperty("lastDigestAt").ValueKind);
    }

    [Fact]
    public async Task Add_UnknownTopic_ExitsOneListingTopics()
    {
        var (exitCode, _, error) = await host.RunCliAsync("subscribers", "add", "--email", "a@example.com", "--topics", "astrology");

        Assert.Equal(1, exitCode);
        Assert.StartsWith("error: --topics 'astrology' is not a topic; topics: sanctions, nuclear, north-korea", error);
        Assert.Equal("No subscribers.", (await host.RunCliAsync("subscribers", "list")).Output.Trim());
    }

    [Theory]
    [InlineData("error: email 'nobody' is not an address", "--email", "nobody")]
    [InlineData("error: time_zone 'Tokyo' is not an IANA time zone", "--email", "a@example.com", "--time-zone", "Tokyo")]
    [InlineData("error: give --email, --telegram or both", "--name", "Nobody")]
    public async Task Add_BadInput_ExitsOneNamingIt(string message, params string[] args)
    {
        var (exitCode, _, error) = await host.RunCliAsync(["subscribers", "add", .. args]);

        Assert.Equal(1, exitCode);
        Assert.StartsWith(message, error);
    }

    [Fact]
    public async Task Add_TakenAddress_ExitsOne()
    {
        await host.RunCliAsync("subscribers", "add", "--telegram", "77");

        var (exitCode, _, error) = await host.RunCliAsync("subscribers", "add", "--telegram", "77", "--email", "b@example.com");

        Assert.Equal(1, exitCode);
        Assert.Equal("error: telegram '77' already belongs to subscriber 1", error.Trim());
    }

    [Fact]
    public async Task Import_Fixture_PrintsCountAndEachBadRowChecksTopics()
    {
        var (exitCode, output, error) = await host.RunCliAsync("subscribers", "import", TestPaths.Fixture("subscribers/import.csv"));

        Assert.Equal(0, exitCode);
        Assert.Equal("Imported 5 subscriber(s), skipped 6 row(s).", output.Trim());
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["line 4", "line 6", "line 7", "line 8", "line 11", "line 14"], lines.Select(l => l[..l.IndexOf(':')]));
        Assert.StartsWith("line 14: topics 'astrology' is not a topic; topics: sanctions", lines[^1]);
        var (_, listed, _) = await host.RunCliAsync("subscribers", "list");
        Assert.Equal(5, listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.StartsWith('#')));
    }

    [Fact]
    public async Task Import_MissingFile_ExitsOne()
    {
        var (exitCode, _, error) = await host.RunCliAsync("subscribers", "import", Path.Combine(host.DataDirectory, "missing.csv"));

        Assert.Equal(1, exitCode);
        Assert.StartsWith("error: cannot import '", error);
        Assert.Contains("missing.csv", error);
    }

    [Fact]
    public async Task Suppress_StoresTheNormalizedAddress()
    {
        var (exitCode, output, _) = await host.RunCliAsync("subscribers", "suppress", "email", "Spam@Example.com", "--reason", "complaint");
        var (badExit, _, badError) = await host.RunCliAsync("subscribers", "suppress", "telegram", "abc");

        Assert.Equal(0, exitCode);
        Assert.Equal("Suppressed email 'spam@example.com': complaint", output.Trim());
        var store = (await host.StartAsync()).GetRequiredService<SubscriberStore>();
        Assert.Equal(["spam@example.com"], await store.FindSuppressedAsync("email", ["spam@example.com"], CancellationToken.None));
        Assert.Equal(1, badExit);
        Assert.StartsWith("error: telegram 'abc' is not a chat id", badError);
    }
}
