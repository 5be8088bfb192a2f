using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

using Hangfire;
using Hangfire.Storage;

using NewsBot.Email;
using NewsBot.Subscribers;
using NewsBot.Tests.Admin;

namespace NewsBot.Tests.Email;

/// <summary>The bounce mailbox in the running service: its recurring job, and the admin's view of the bounces.</summary>
public sealed class BounceServiceTests
{
    private const string Token = "test-admin-token-0123456789";

    [Fact]
    public async Task Start_MailboxEnabled_DeclaresTheRecurringJobOnItsCron()
    {
        await using var service = await ServiceUnderTest.StartAsync(
            ("NewsBot:Email:Bounces:Enabled", "true"),
            ("NewsBot:Email:Bounces:Host", "imap.example.org"),
            ("NewsBot:Email:Bounces:Username", "bounces@example.org"),
            ("NewsBot:Email:Bounces:Password", "secret"),
            ("NewsBot:Email:Bounces:Cron", "*/5 * * * *"));

        var job = Assert.Single(RecurringJobs(service), j => j.Id == BounceMailboxJob.JobId);

        Assert.Equal("*/5 * * * *", job.Cron);
    }

    [Fact]
    public async Task Start_MailboxOff_DeclaresNoJob()
    {
        await using var service = await ServiceUnderTest.StartAsync();

        Assert.DoesNotContain(RecurringJobs(service), j => j.Id == BounceMailboxJob.JobId);
    }

    [Fact]
    public async Task AdminApi_ListsBouncesNewestFirst()
    {
        await using var service = await ServiceUnderTest.StartAsync(("NewsBot:Admin:Token", Token));
        var subscribers = service.Services.GetRequiredService<SubscriberStore>();
        await subscribers.AddAsync(new NewSubscriber("dave@example.org", null, [], Cadence.Instant), CancellationToken.None);
        var processor = service.Services.GetRequiredService<BounceProcessor>();
        await processor.ProcessReportAsync(BounceProcessorTests.Dsn("first@mx.example.net", "dave@example.org", "delayed", "4.2.2"), CancellationToken.None);
        await processor.ProcessReportAsync(BounceProcessorTests.Dsn("second@mx.example.net", "dave@example.org", "failed", "5.1.1"), CancellationToken.None);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/admin/bounces?address=Dave@Example.org");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        var response = await service.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var kinds = json.RootElement.EnumerateArray().Select(b => (b.GetProperty("kind").GetString(), b.GetProperty("status").GetString())).ToList();
        Assert.Equal([("hard", "5.1.1"), ("soft", "4.2.2")], kinds);
        Assert.StartsWith("hard bounce 5.1.1", json.RootElement[0].GetProperty("suppressed").GetString());
        Assert.Equal(JsonValueKind.Null, json.RootElement[1].GetProperty("suppressed").ValueKind);
    }

    [Fact]
    public async Task AdminApi_LimitOutOfRange_Is400()
    {
        await using var service = await ServiceUnderTest.StartAsync(("NewsBot:Admin:Token", Token));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/admin/bounces?limit=0");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);

        var response = await service.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("limit 0 must be between 1 and 1000", await response.Content.ReadAsStringAsync());
    }

    private static List<RecurringJobDto> RecurringJobs(ServiceUnderTest service)
    {
        using var connection = service.Services.GetRequiredService<JobStorage>().GetConnection();
        return connection.GetRecurringJobs();
    }
}
