using NewsBot.Feeds;

namespace NewsBot.Tests.Feeds;

public sealed class FeedsOptionsValidatorTests
{
    private static List<string> Validate(Action<FeedsOptions> change)
    {
        var options = new FeedsOptions { Feeds = [new FeedSourceOptions { Name = "blog", Url = "https://blog.example.org/feeds/posts/default" }] };
        change(options);
        return [.. FeedsOptionsValidator.ValidateFeeds(options)];
    }

    [Fact]
    public void AcceptsAValidFeed()
    {
        Assert.Empty(Validate(_ => { }));
    }

    [Theory]
    [InlineData("ftp://example.org/feed", "NewsBot:Feeds:0:Url 'ftp://example.org/feed' is not an http(s) URL")]
    [InlineData("", "NewsBot:Feeds:0:Url '' is not")]
    [InlineData("https://", "NewsBot:Feeds:0:Url 'https://' is not")]
    public void NamesTheKeyOfABadUrl(string url, string expected)
    {
        var error = Assert.Single(Validate(o => o.Feeds[0].Url = url));
        Assert.StartsWith(expected, error);
    }

    [Theory]
    [InlineData("every ten minutes")]
    [InlineData("*/10 * * *")]
    [InlineData("61 * * * *")]
    public void RejectsABadCron(string cron)
    {
        var error = Assert.Single(Validate(o => o.Feeds[0].Cron = cron));
        Assert.StartsWith($"NewsBot:Feeds:0:Cron '{cron}' is not a cron expression", error);
    }

    [Theory]
    [InlineData("*/10 * * * *")]
    [InlineData("0 7 * * MON-FRI")]
    [InlineData("30 */5 * * * *")]
    public void AcceptsFiveAndSixFieldCron(string cron)
    {
        Assert.Empty(Validate(o => o.Feeds[0].Cron = cron));
    }

    [Fact]
    public void RejectsEmptyAndDuplicateNames()
    {
        var errors = Validate(o =>
        {
            o.Feeds.Add(new FeedSourceOptions { Name = "BLOG", Url = "/srv/feed.xml" });
            o.Feeds.Add(new FeedSourceOptions { Name = " ", Url = "feed.xml" });
            o.Feeds.Add(new FeedSourceOptions { Name = "my feed", Url = "feed.xml" });
        });
        Assert.Equal(
            [
                "NewsBot:Feeds:1:Name 'BLOG' is used by another feed",
                "NewsBot:Feeds:2:Name is empty: give each feed a short name such as 'blog'",
                "NewsBot:Feeds:3:Name 'my feed' may hold only letters, digits, '-', '_' and '.' (it names the job poll-feed:<name>)",
            ],
            errors);
    }

    [Fact]
    public void ChecksFetchLimits()
    {
        var errors = Validate(o =>
        {
            o.Fetch.Timeout = TimeSpan.Zero;
            o.Fetch.MaxBytes = 10;
            o.Fetch.UserAgent = "";
        });
        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("NewsBot:Fetch:Timeout", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("NewsBot:Fetch:MaxBytes 10", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("NewsBot:Fetch:UserAgent is empty", StringComparison.Ordinal));
    }
}
