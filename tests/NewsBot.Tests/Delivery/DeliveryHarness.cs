using Hangfire;
using Hangfire.Common;
using Hangfire.States;

using NewsBot.Delivery;
using NewsBot.Feeds;
using NewsBot.Posts;
using NewsBot.Storage;
using NewsBot.Subscribers;

namespace NewsBot.Tests.Delivery;

/// <summary>
/// The product's service wiring over a fresh data directory, with Hangfire replaced by a recorder: tests run the
/// recorded dispatch jobs themselves, as often as they like.
/// </summary>
public sealed class DeliveryHarness : IDisposable
{
    public static readonly CancellationToken Ct = CancellationToken.None;

    private readonly TestHost _host;

    private DeliveryHarness(TestHost host, IServiceProvider services)
    {
        _host = host;
        Services = services;
        Store = services.GetRequiredService<DeliveryStore>();
        Subscribers = services.GetRequiredService<SubscriberStore>();
        Posts = services.GetRequiredService<PostStore>();
        Db = services.GetRequiredService<Db>();
    }

    public IServiceProvider Services { get; }

    /// <summary>The data directory and settings, for running CLI verbs against the same store.</summary>
    public TestHost Host => _host;

    public RecordingJobClient Jobs { get; } = new();

    public DeliveryStore Store { get; }

    public SubscriberStore Subscribers { get; }

    public PostStore Posts { get; }

    public Db Db { get; }

    public string OutboxDirectory => Path.Combine(_host.DataDirectory, "outbox");

    public DeliveryPlanner Planner => ActivatorUtilities.CreateInstance<DeliveryPlanner>(Services, Jobs);

    public static Task<DeliveryHarness> CreateAsync(params (string Key, string? Value)[] settings) =>
        CreateAsync(TestHost.DefaultProvider, settings);

    /// <summary>The harness with its database on <paramref name="provider"/> (see <see cref="TestHost.Create(string, ValueTuple{string, string}[])"/>).</summary>
    public static async Task<DeliveryHarness> CreateAsync(string provider, params (string Key, string? Value)[] settings)
    {
        var host = TestHost.Create(provider, settings);
        var services = await host.StartAsync();
        await services.GetRequiredService<FeedStateStore>().EnsureAsync("blog", "https://blog.example/feed", Ct);
        return new DeliveryHarness(host, services);
    }

    /// <summary>A dispatcher over the configured channels (the outbox), or over <paramref name="channels"/>.</summary>
    public DispatchJob Dispatcher(params IChannel[] channels) => channels.Length == 0
        ? ActivatorUtilities.CreateInstance<DispatchJob>(Services)
        : ActivatorUtilities.CreateInstance<DispatchJob>(Services, (IEnumerable<IChannel>)channels);

    public async Task<long> AddPostAsync(string key, string[] topics, DateTimeOffset? published = null, string? title = null)
    {
        var post = new NewPost(key, $"https://blog.example/{key}", title ?? $"Title {key}", "Ann Author", published ?? DateTimeOffset.UtcNow.AddHours(-1),
            null, [], topics, $"<p>Body of {key}</p>", $"Summary of {key}", "hash-" + key);
        var saved = await Posts.SaveAsync("blog", [post], Ct);
        return Assert.Single(saved.InsertedIds);
    }

    /// <summary>A send with one email ledger row for the subscriber, as a sent message leaves it; returns the send id.</summary>
    public async Task<long> AddEmailSendAsync(long subscriberId, string address)
    {
        var sendId = (await Store.CreateSendAsync("post", null, null, [Channels.Email], null, false, "admin", null, Ct))!.Value;
        await using var writer = await Store.OpenLedgerWriterAsync(sendId, Ct);
        await writer.AddAsync([new NewDelivery(subscriberId, Channels.Email, address, "post")], Ct);
        return sendId;
    }

    /// <summary>
    /// Posts 1..count in topic sanctions, titled "Sanctions briefing N", post 1 the newest (a digest lists the newest
    /// first); each summary near the digest template's 300 characters, with characters to escape.
    /// </summary>
    public async Task AddLongPostsAsync(int count)
    {
        var summary = string.Concat(Enumerable.Repeat("Export bans on <dual-use> goods & tankers widen; ", 6));
        var posts = Enumerable.Range(1, count).Select(i => new NewPost(
            $"brief-{i}", $"https://blog.example/brief-{i}?a=1&b=2", $"Sanctions briefing {i} – tariffs < 5% 🚢", "Ann Author",
            DateTimeOffset.UtcNow.AddMinutes(-i), null, [], ["sanctions"], $"<p>{summary}</p>", summary, $"hash-{i}")).ToList();
        await Posts.SaveAsync("blog", posts, Ct);
    }

    public Task SeedAsync(params NewSubscriber[] subscribers) => Subscribers.SeedAsync(subscribers, Ct);

    /// <summary>The recorded dispatch jobs as (send, first, last), in the order they were enqueued.</summary>
    public IReadOnlyList<(long SendId, long FirstId, long LastId)> DispatchRanges() =>
        Jobs.Recorded
            .Where(j => j.Type == typeof(DispatchJob))
            .Select(j => ((long)j.Args[0], (long)j.Args[1], (long)j.Args[2]))
            .ToList();

    /// <summary>Runs every recorded dispatch job once; returns how many threw.</summary>
    public async Task<int> RunDispatchesAsync(DispatchJob? dispatcher = null)
    {
        dispatcher ??= Dispatcher();
        var failures = 0;
        foreach (var (sendId, first, last) in DispatchRanges())
        {
            try
            {
                await dispatcher.DispatchAsync(sendId, first, last, Ct);
            }
            catch (DeliveryRetryException)
            {
                failures++;
            }
        }

        return failures;
    }

    /// <summary>The CLI over the same data directory and settings.</summary>
    public Task<(int ExitCode, string Output, string Error)> RunCliAsync(params string[] args) => _host.RunCliAsync(args);

    public string[] OutboxFiles() => Directory.Exists(OutboxDirectory)
        ? Directory.GetFiles(OutboxDirectory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray()
        : [];

    public async Task<long> CountAsync(string sql)
    {
        await using var connection = await Db.OpenAsync(Ct);
        await using var command = connection.CreateCommand(sql);
        // An integer column is Int64 on SQLite and Int32 on PostgreSQL (integer); COUNT is Int64 on both.
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose() => _host.Dispose();
}

/// <summary>An <see cref="IBackgroundJobClient"/> that only records what was enqueued.</summary>
public sealed class RecordingJobClient : IBackgroundJobClient
{
    private readonly List<Job> _recorded = [];

    public IReadOnlyList<Job> Recorded => _recorded;

    public string Create(Job job, IState state)
    {
        _recorded.Add(job);
        return _recorded.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public bool ChangeState(string jobId, IState state, string expectedState) => true;

    public void Clear() => _recorded.Clear();
}
