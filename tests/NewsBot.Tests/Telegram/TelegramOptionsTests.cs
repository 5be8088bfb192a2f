using NewsBot.Telegram;

namespace NewsBot.Tests.Telegram;

public sealed class TelegramOptionsTests
{
    private static IReadOnlyList<string> Failures(TelegramOptions options) =>
        new TelegramOptionsValidator().Validate(null, options).Failures?.ToList() ?? [];

    [Fact]
    public void DefaultsAndAWellFormedTokenAreValid()
    {
        Assert.Empty(Failures(new TelegramOptions()));
        Assert.Empty(Failures(new TelegramOptions { BotToken = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11" }));
    }

    [Theory]
    [InlineData("BotToken", "not-a-token")]
    [InlineData("ApiBaseUrl", "ftp://api.telegram.org")]
    [InlineData("GlobalMessagesPerSecond", "0")]
    [InlineData("GlobalMessagesPerSecond", "1001")]
    [InlineData("GlobalMessagesPerSecond", "100")]
    [InlineData("GroupMessagesPerMinute", "0")]
    [InlineData("RequestTimeout", "00:00:00")]
    [InlineData("PerChatInterval", "-00:00:01")]
    public void AWrongSettingIsNamedByItsKey(string key, string value)
    {
        var options = new TelegramOptions();
        var property = typeof(TelegramOptions).GetProperty(key)!;
        property.SetValue(options, property.PropertyType == typeof(TimeSpan) ? TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture)
            : property.PropertyType == typeof(int) ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : value);

        var failure = Assert.Single(Failures(options));

        Assert.StartsWith($"NewsBot:Telegram:{key}", failure);
    }

    [Fact]
    public void AboveThirtyPerSecondNeedsPaidBroadcast()
    {
        Assert.Empty(Failures(new TelegramOptions { GlobalMessagesPerSecond = 1000, AllowPaidBroadcast = true }));
        Assert.Contains("AllowPaidBroadcast", Assert.Single(Failures(new TelegramOptions { GlobalMessagesPerSecond = 31 })));
    }

    [Fact]
    public async Task TheCliRefusesABadTokenWithExitCode2NamingTheKey()
    {
        using var host = TestHost.Create(("NewsBot:Telegram:BotToken", "nonsense"));

        var (exitCode, _, error) = await host.RunCliAsync("subscribers", "list");

        Assert.Equal(2, exitCode);
        Assert.Contains("NewsBot:Telegram:BotToken", error);
    }
}
