using System.Text.Json;

namespace NewsBot.Tests.Cli;

public sealed class CliTests : IDisposable
{
    private readonly TestHost host = TestHost.Create();

    public void Dispose() => host.Dispose();

    [Theory]
    [InlineData("feeds", "parse")]
    [InlineData("feeds", "list")]
    [InlineData("feeds", "poll")]
    [InlineData("posts", "latest")]
    [InlineData("posts", "search")]
    public async Task EveryVerbHasHelp(string noun, string verb)
    {
        var (exitCode, output, _) = await host.RunCliAsync(noun, verb, "--help");

        Assert.Equal(0, exitCode);
        Assert.Contains("Usage:", output);
        Assert.Contains($"{noun} {verb}", output);
    }

    [Fact]
    public async Task ParsePrintsTheDocumentedJsonShape()
    {
        var (exitCode, output, error) = await host.RunCliAsync("feeds", "parse", TestPaths.Fixture("feeds/blogger-page1.xml"), "--json");

        Assert.True(exitCode == 0, error);
        using var json = JsonDocument.Parse(output);
        var feed = json.RootElement.GetProperty("feed");
        Assert.Equal("Harbour Watch", feed.GetProperty("title").GetString());
        Assert.Equal("https://harbour-watch.example.org/", feed.GetProperty("link").GetString());
        Assert.Equal("atom", feed.GetProperty("type").GetString());
        var post = json.RootElement.GetProperty("posts")[0];
        Assert.Equal(
            ["id", "url", "title", "author", "published", "updated", "labels", "topics", "summary"],
            post.EnumerateObject().Select(p => p.Name));
        Assert.Equal("tag:blogger.com,1999:blog-1111222233334444.post-3000", post.GetProperty("id").GetString());
        Assert.Equal("2024-07-02T00:00:00Z", post.GetProperty("published").GetString());
        Assert.Equal("K. Sato", post.GetProperty("author").GetString());
        Assert.Equal(["Sanctions"], post.GetProperty("labels").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("sanctions", post.GetProperty("topics").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task ParseOfANonFeedExitsOneWithOneLine()
    {
        var notAFeed = Path.Combine(host.DataDirectory, "page.html");
        File.WriteAllText(notAFeed, "<!DOCTYPE html><html><body><p>Hello</p></body></html>");

        var (exitCode, output, error) = await host.RunCliAsync("feeds", "parse", notAFeed, "--json");

        Assert.Equal(1, exitCode);
        Assert.Equal("", output);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
    }

    [Fact]
    public async Task ParseOfAMissingFileSaysWhichFile()
    {
        var missing = Path.Combine(host.DataDirectory, "nope.xml");

        var (exitCode, _, error) = await host.RunCliAsync("feeds", "parse", missing);

        Assert.Equal(1, exitCode);
        Assert.Contains("nope.xml", error);
    }

    [Fact]
    public async Task PollThenLatestAndSearchShowTheSampleFeed()
    {
        var (pollExit, pollOutput, pollError) = await host.RunCliAsync("feeds", "poll");
        var (latestExit, latest, _) = await host.RunCliAsync("posts", "latest", "-n", "3", "--json");
        var (searchExit, search, _) = await host.RunCliAsync("posts", "search", "sanctions");
        var (listExit, list, _) = await host.RunCliAsync("feeds", "list");

        Assert.True(pollExit == 0, pollError);
        Assert.Contains("sample: fetching", pollOutput);
        Assert.Matches(@"sample: \d+ new, 0 updated", pollOutput);
        Assert.Equal(0, latestExit);
        using var json = JsonDocument.Parse(latest);
        var posts = json.RootElement.GetProperty("posts").EnumerateArray().ToList();
        Assert.Equal(3, posts.Count);
        var dates = posts.Select(p => p.GetProperty("published").GetString()).ToList();
        Assert.Equal(dates.OrderDescending(StringComparer.Ordinal), dates);
        Assert.Equal(0, searchExit);
        Assert.Contains("anction", search);
        Assert.Equal(0, listExit);
        Assert.Contains("last poll", list);
    }

    [Fact]
    public async Task LatestByTopicKeepsOnlyThatTopic()
    {
        await host.RunCliAsync("feeds", "poll");

        var (exitCode, output, _) = await host.RunCliAsync("posts", "latest", "--topic", "sanctions", "--json");

        Assert.Equal(0, exitCode);
        using var json = JsonDocument.Parse(output);
        var posts = json.RootElement.GetProperty("posts").EnumerateArray().ToList();
        Assert.NotEmpty(posts);
        Assert.All(posts, p => Assert.Contains("sanctions", p.GetProperty("topics").EnumerateArray().Select(t => t.GetString())));
    }

    [Fact]
    public async Task AnUnknownTopicListsTheKnownOnes()
    {
        var (exitCode, _, error) = await host.RunCliAsync("posts", "latest", "--topic", "cooking");

        Assert.Equal(1, exitCode);
        Assert.Contains("--topic 'cooking' is not a topic", error);
        Assert.Contains("sanctions", error);
    }

    [Fact]
    public async Task AWrongSettingExitsTwoNamingTheKey()
    {
        host.Configuration["NewsBot:Feeds:0:Name"] = "blog";
        host.Configuration["NewsBot:Feeds:0:Url"] = "gopher://example.org/feed";

        var (exitCode, _, error) = await host.RunCliAsync("feeds", "list");

        Assert.Equal(2, exitCode);
        Assert.Contains("NewsBot:Feeds:0:Url 'gopher://example.org/feed'", error);
    }

    [Fact]
    public async Task AFailedPollExitsOneAndListShowsTheFailure()
    {
        host.Configuration["NewsBot:Feeds:0:Name"] = "gone";
        host.Configuration["NewsBot:Feeds:0:Url"] = Path.Combine(host.DataDirectory, "missing.xml");

        var (pollExit, _, pollError) = await host.RunCliAsync("feeds", "poll", "gone");
        var (listExit, list, _) = await host.RunCliAsync("feeds", "list");

        Assert.Equal(1, pollExit);
        Assert.Contains("gone: failed: ", pollError);
        Assert.Contains("missing.xml", pollError);
        Assert.Equal(0, listExit);
        Assert.Matches(@"1 failure\(s\) in a row, next try after \d{4}-\d\d-\d\dT[\d:]+Z: .*missing\.xml", list);
    }

    [Fact]
    public async Task PollSaysWhichNewPostsItDidNotAnnounce()
    {
        var feed = Path.Combine(host.DataDirectory, "feed.xml");
        File.Copy(TestPaths.Fixture("feeds/blogger-page1.xml"), feed);
        host.Configuration["NewsBot:Feeds:0:Name"] = "harbour";
        host.Configuration["NewsBot:Feeds:0:Url"] = feed;
        host.Configuration["NewsBot:Feeds:0:Backfill"] = "false";

        var (_, first, _) = await host.RunCliAsync("feeds", "poll");
        File.WriteAllText(feed, File.ReadAllText(feed).Replace("<entry>", """
            <entry>
              <id>tag:blogger.com,1999:blog-1111222233334444.post-5000</id>
              <published>2024-07-06T09:00:00.000+09:00</published>
              <title type='text'>A New Post</title>
              <content type='html'>&lt;p&gt;News.&lt;/p&gt;</content>
            </entry>
            <entry>
            """, StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(feed, DateTime.UtcNow.AddMinutes(1));
        var (exitCode, second, _) = await host.RunCliAsync("feeds", "poll");

        Assert.Contains("harbour: 2 new", first);
        Assert.DoesNotContain("not announced", first);
        Assert.Equal(0, exitCode);
        Assert.Contains("harbour: 1 new", second);
        Assert.Matches(@"harbour: 1 new post\(s\) not announced; send one with `send post <id>` \(ids \d+\)", second);
    }

    [Fact]
    public async Task AnOutOfRangeCountIsRefused()
    {
        var (exitCode, _, error) = await host.RunCliAsync("posts", "latest", "-n", "0");

        Assert.Equal(1, exitCode);
        Assert.Contains("-n 0 is out of range", error);
    }
}
