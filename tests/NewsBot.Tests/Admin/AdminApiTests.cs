using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

using NewsBot.Delivery;
using NewsBot.Feeds;
using NewsBot.Posts;
using NewsBot.Subscribers;

namespace NewsBot.Tests.Admin;

public sealed class AdminApiTests
{
    private const string Token = "test-admin-token-0123456789";

    private static Task<ServiceUnderTest> StartAsync() => ServiceUnderTest.StartAsync(("NewsBot:Admin:Token", Token));

    private static HttpRequestMessage Request(HttpMethod method, string path, object? body = null, string? token = Token)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return request;
    }

    /// <summary>Polls the sample feed now and returns the newest post on sanctions that is not also on Ukraine.</summary>
    private static async Task<Post> PollSampleAsync(ServiceUnderTest service)
    {
        await service.Services.GetRequiredService<FeedRefresher>().RefreshFeedAsync("sample", force: true, null, CancellationToken.None);
        var posts = await service.Services.GetRequiredService<PostStore>().LatestAsync(50, "sanctions", CancellationToken.None);
        return posts.First(p => !p.Topics.Contains("ukraine"));
    }

    private static async Task SeedSubscribersAsync(ServiceUnderTest service)
    {
        var store = service.Services.GetRequiredService<SubscriberStore>();
        await store.AddAsync(new NewSubscriber("a@example.org", null, ["sanctions"], Cadence.Instant), CancellationToken.None);
        await store.AddAsync(new NewSubscriber("b@example.org", 1001, [], Cadence.Daily), CancellationToken.None);
        await store.AddAsync(new NewSubscriber("c@example.org", null, ["ukraine"], Cadence.Weekly), CancellationToken.None);
        await store.AddAsync(new NewSubscriber(null, 1002, ["sanctions", "russia"], Cadence.Instant), CancellationToken.None);
        await store.AddAsync(new NewSubscriber("d@example.org", null, [], Cadence.Off), CancellationToken.None);
    }

    [Fact]
    public async Task WithoutATokenConfiguredTheApiIsOff()
    {
        await using var service = await ServiceUnderTest.StartAsync();

        var response = await service.Http.SendAsync(Request(HttpMethod.Get, "/api/admin/sends/1"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("NewsBot:Admin:Token", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task NoCredentialsIs401AndAWrongTokenIs403()
    {
        await using var service = await StartAsync();

        var none = await service.Http.SendAsync(Request(HttpMethod.Post, "/api/admin/sends", new { kind = "digest", cadence = "daily", dryRun = true }, token: null));
        var wrong = await service.Http.SendAsync(Request(HttpMethod.Post, "/api/admin/sends", new { kind = "digest", cadence = "daily", dryRun = true }, token: "not-the-admin-token-000"));

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
    }

    [Fact]
    public async Task BadRequestsNameTheField()
    {
        await using var service = await StartAsync();

        var kind = await service.Http.SendAsync(Request(HttpMethod.Post, "/api/admin/sends", new { kind = "blast" }));
        var post = await service.Http.SendAsync(Request(HttpMethod.Post, "/api/admin/sends", new { kind = "post", postId = 999999 }));
        var channel = await service.Http.SendAsync(Request(HttpMethod.Post, "/api/admin/sends", new { kind = "digest", cadence = "daily", channels = new[] { "fax" } }));

        Assert.Equal(HttpStatusCode.BadRequest, kind.StatusCode);
        Assert.Contains("kind 'blast'", await kind.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Contains("postId 999999 does not exist", await post.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, channel.StatusCode);
        Assert.Contains("'fax' unknown", await channel.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ADryRunCountsTheAudiencePerChannelAndSendsNothing()
    {
        await using var service = await StartAsync();
        var post = await PollSampleAsync(service);
        await SeedSubscribersAsync(service);

        var response = await service.Http.SendAsync(Request(HttpMethod.Post, "/api/admin/sends", new { kind = "post", postId = post.Id, dryRun = true }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("id").ValueKind);
        var audience = json.RootElement.GetProperty("audience");
        // a (sanctions, email), b (all topics: email + telegram), 1002 (sanctions, telegram); c wants only ukraine, d is off.
        Assert.Equal(2, audience.GetProperty("email").GetInt32());
        Assert.Equal(2, audience.GetProperty("telegram").GetInt32());
        Assert.True(json.RootElement.GetProperty("eta").GetDateTimeOffset() >= DateTimeOffset.UtcNow.AddSeconds(-5));
        Assert.False(Directory.Exists(Path.Combine(service.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<NewsBot.Storage.StorageOptions>>().Value.DataDirectory, "outbox"))
            && Directory.EnumerateFiles(Path.Combine(service.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<NewsBot.Storage.StorageOptions>>().Value.DataDirectory, "outbox")).Any());
    }

    [Fact]
    public async Task ASendIsReportedAndRetryFailedResendsOnlyFailedRows()
    {
        await using var service = await StartAsync();
        var post = await PollSampleAsync(service);
        await SeedSubscribersAsync(service);

        var created = await service.Http.SendAsync(Request(HttpMethod.Post, "/api/admin/sends", new { kind = "post", postId = post.Id, channels = new[] { "email" } }));
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var sendId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
        var deliveries = service.Services.GetRequiredService<DeliveryStore>();
        await WaitForFinishedAsync(service, deliveries, sendId);
        var failedId = await FailOneDeliveryAsync(service, sendId);

        var report = await service.Http.SendAsync(Request(HttpMethod.Get, $"/api/admin/sends/{sendId}"));
        var reportText = await report.Content.ReadAsStringAsync();
        var retried = await service.Http.SendAsync(Request(HttpMethod.Post, $"/api/admin/sends/{sendId}/retry-failed"));
        await WaitForFinishedAsync(service, deliveries, sendId);
        var counts = await deliveries.CountStatesAsync(sendId, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.Contains("550 mailbox unavailable", reportText);
        Assert.Equal(1, JsonDocument.Parse(await retried.Content.ReadAsStringAsync()).RootElement.GetProperty("requeued").GetInt32());
        Assert.Equal(2, counts.GetValueOrDefault(DeliveryState.Sent));
        Assert.Equal(0, counts.GetValueOrDefault(DeliveryState.FailedPermanent));
        var attempts = await AttemptsAsync(service, sendId);
        Assert.Equal(2, attempts[failedId]);
        Assert.All(attempts.Where(a => a.Key != failedId), a => Assert.Equal(1, a.Value));
    }

    [Fact]
    public async Task PreviewRendersTheChosenChannel()
    {
        await using var service = await StartAsync();
        var post = await PollSampleAsync(service);

        var html = await service.Http.SendAsync(Request(HttpMethod.Post, "/api/admin/preview", new { postId = post.Id, channel = "email-html" }));
        var telegram = await service.Http.SendAsync(Request(HttpMethod.Post, "/api/admin/preview", new { postId = post.Id, channel = "telegram" }));
        var bad = await service.Http.SendAsync(Request(HttpMethod.Post, "/api/admin/preview", new { postId = post.Id, channel = "pigeon" }));

        var htmlBody = JsonDocument.Parse(await html.Content.ReadAsStringAsync()).RootElement.GetProperty("body").GetString()!;
        var telegramBody = JsonDocument.Parse(await telegram.Content.ReadAsStringAsync()).RootElement.GetProperty("body").GetString()!;
        Assert.Contains("<html", htmlBody, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<html", telegramBody, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(post.Title), telegramBody);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    /// <summary>Seeds a bounce: one sent row of the send is marked failed-permanent, as a 5xx at send time would.</summary>
    private static async Task<long> FailOneDeliveryAsync(ServiceUnderTest service, long sendId)
    {
        var db = service.Services.GetRequiredService<NewsBot.Storage.Db>();
        long id;
        await using (var connection = await db.OpenAsync(CancellationToken.None))
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT min(id) FROM deliveries WHERE send_id = {sendId}";
            id = Convert.ToInt64(await command.ExecuteScalarAsync());
        }

        await service.Services.GetRequiredService<DeliveryStore>().MarkFailedAsync(id, permanent: true, "550 mailbox unavailable", CancellationToken.None);
        return id;
    }

    private static async Task<Dictionary<long, int>> AttemptsAsync(ServiceUnderTest service, long sendId)
    {
        var attempts = new Dictionary<long, int>();
        await using var connection = await service.Services.GetRequiredService<NewsBot.Storage.Db>().OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id, attempts FROM deliveries WHERE send_id = {sendId}";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            attempts[reader.GetInt64(0)] = reader.GetInt32(1);
        }

        return attempts;
    }

    private static async Task WaitForFinishedAsync(ServiceUnderTest service, DeliveryStore deliveries, long sendId)
    {
        // Generous: the whole suite runs its hosts in parallel, on PostgreSQL each with its own Hangfire schema.
        IReadOnlyDictionary<DeliveryState, int> counts = new Dictionary<DeliveryState, int>();
        for (var deadline = DateTime.UtcNow.AddSeconds(90); DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            counts = await deliveries.CountStatesAsync(sendId, CancellationToken.None);
            if (counts.GetValueOrDefault(DeliveryState.Pending) + counts.GetValueOrDefault(DeliveryState.Sending) == 0)
            {
                return;
            }
        }

        throw new TimeoutException($"send {sendId} did not finish in 90 s; ledger: {string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}"))}; jobs:\n{service.DescribeJobs()}");
    }
}
