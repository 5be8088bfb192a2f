using Microsoft.Extensions.Options;

using NewsBot.Telegram;
using NewsBot.Topics;

namespace NewsBot.Tests.Telegram;

public sealed class BroadcastChannelsValidatorTests
{
    private static IReadOnlyList<string> Failures(params BroadcastChannelOptions[] channels) =>
        new BroadcastChannelsValidator(Options.Create(new TopicsOptions())).Validate(null, new TelegramOptions { Channels = [.. channels] }).Failures?.ToList() ?? [];

    [Fact]
    public void UsernamesNegativeIdsAndKnownTopicsAreValid()
    {
        Assert.Empty(Failures(
            new BroadcastChannelOptions { Chat = "@harbour_news", Topics = ["sanctions", "Nuclear"] },
            new BroadcastChannelOptions { Chat = "-1001234567890" },
            new BroadcastChannelOptions { Chat = "-4001" }));
    }

    [Theory]
    [InlineData("harbour_news", "is neither '@name'")]
    [InlineData("@abc", "is neither '@name'")]
    [InlineData("@harbour news", "is neither '@name'")]
    [InlineData("", "is neither '@name'")]
    [InlineData("501", "is not a channel or group id")]
    [InlineData("0", "is not a channel or group id")]
    public void AWrongChatIsNamedByItsKey(string chat, string expected)
    {
        var failure = Assert.Single(Failures(new BroadcastChannelOptions { Chat = "@harbour_news" }, new BroadcastChannelOptions { Chat = chat }));

        Assert.StartsWith($"NewsBot:Telegram:Channels:1:Chat '{chat}' ", failure);
        Assert.Contains(expected, failure);
    }

    [Fact]
    public void EachWrongKeyHasItsOwnLine()
    {
        var failures = Failures(
            new BroadcastChannelOptions { Chat = "@harbour_news", Topics = ["sanctions", "weather", "sports"] },
            new BroadcastChannelOptions { Chat = "@Harbour_News" });

        Assert.Equal(
        [
            "NewsBot:Telegram:Channels:0:Topics:1 'weather' is not a topic; topics: " + string.Join(", ", TopicDefaults.All.Select(t => t.Name)),
            "NewsBot:Telegram:Channels:0:Topics:2 'sports' is not a topic; topics: " + string.Join(", ", TopicDefaults.All.Select(t => t.Name)),
            "NewsBot:Telegram:Channels:1:Chat '@Harbour_News' is already NewsBot:Telegram:Channels:0",
        ], failures);
    }

    [Fact]
    public async Task TheCliRefusesAnUnknownTopicWithExitCode2NamingTheKey()
    {
        using var host = TestHost.Create(
            ("NewsBot:Telegram:Channels:0:Chat", "@harbour_news"),
            ("NewsBot:Telegram:Channels:0:Topics:0", "weather"));

        var (exitCode, _, error) = await host.RunCliAsync("subscribers", "list");

        Assert.Equal(2, exitCode);
        Assert.Contains("NewsBot:Telegram:Channels:0:Topics:0 'weather' is not a topic", error);
    }
}
