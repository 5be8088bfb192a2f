using Microsoft.Extensions.Options;

using NewsBot.Delivery;

namespace NewsBot.Tests.Delivery;

public sealed class DeliveryOptionsTests
{
    [Fact]
    public void Defaults_AreValid()
    {
        Assert.Empty(new DeliveryOptions().Validate());
    }

    [Fact]
    public async Task WrongSettings_StopTheStart_NamingEachKey()
    {
        using var host = TestHost.Create(
            ("NewsBot:Delivery:ChunkSize", "0"),
            ("NewsBot:Delivery:DailyCron", "every day"),
            ("NewsBot:Delivery:TimeZone", "Mars/Olympus_Mons"),
            ("NewsBot:Delivery:OutboxRatePerSecond", "-1"),
            ("NewsBot:Delivery:LeaseDuration", "00:00:04"),
            ("NewsBot:Delivery:TelegramRatePerSecond", "25"));

        var e = await Assert.ThrowsAsync<OptionsValidationException>(host.StartAsync);

        Assert.Equal(6, e.Failures.Count());
        foreach (var key in (string[])["NewsBot:Delivery:ChunkSize 0", "NewsBot:Delivery:DailyCron 'every day'", "NewsBot:Delivery:TimeZone 'Mars/Olympus_Mons'", "NewsBot:Delivery:OutboxRatePerSecond -1",
            "NewsBot:Delivery:LeaseDuration 00:00:04"])
        {
            Assert.Contains(e.Failures, f => f.StartsWith(key, StringComparison.Ordinal));
        }

        // The old ETA rate is refused with the setting that replaced it, not silently ignored.
        Assert.Contains(e.Failures, f => f.StartsWith("NewsBot:Delivery:TelegramRatePerSecond is no longer read", StringComparison.Ordinal) && f.Contains("NewsBot:Telegram:GlobalMessagesPerSecond", StringComparison.Ordinal));
    }

    [Fact]
    public void IanaTimeZone_IsAccepted()
    {
        Assert.Empty(new DeliveryOptions { TimeZone = "Asia/Tokyo", WeeklyCron = "30 8 * * 1" }.Validate());
    }
}
