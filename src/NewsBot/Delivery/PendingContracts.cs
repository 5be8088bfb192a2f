// Stand-ins for code two other helpers write in parallel (SubscriberStore, TemplateRenderer). Deleted at merge:
// nothing else may live in this file.
using System.Runtime.CompilerServices;
using System.Text;

using NewsBot.Storage;
using NewsBot.Subscribers;

namespace NewsBot.Subscribers
{
    public sealed record NewSubscriber(
        string? Email,
        long? TelegramChatId,
        IReadOnlyList<string> Topics,
        Cadence Cadence,
        string TimeZone = "UTC",
        string? Name = null,
        ChannelStatus Status = ChannelStatus.Active);

    /// <summary>Stand-in: serves recipients from memory, in subscriber id order, active channels only.</summary>
    public sealed class SubscriberStore(Db db, TimeProvider time)
    {
        private readonly List<Stored> _subscribers = [];
        private readonly HashSet<(string Channel, string Address)> _suppressed = [];

        public Db Db { get; } = db;

        public TimeProvider Time { get; } = time;

        public async IAsyncEnumerable<Recipient> StreamRecipientsAsync(RecipientFilter filter, int pageSize, [EnumeratorCancellation] CancellationToken ct)
        {
            await Task.Yield();
            foreach (var s in _subscribers.ToList())
            {
                ct.ThrowIfCancellationRequested();
                if (s.New.Status != ChannelStatus.Active || s.New.Cadence == Cadence.Off && filter.Cadence != Cadence.Off)
                {
                    continue;
                }

                if (filter.Cadence is { } cadence && s.New.Cadence != cadence)
                {
                    continue;
                }

                if (filter.AnyOfTopics is { } topics && s.New.Topics.Count > 0 && !s.New.Topics.Intersect(topics).Any())
                {
                    continue;
                }

                if (s.New.Email is { } email && filter.Channels.Contains(Channels.Email))
                {
                    yield return new Recipient(s.Id, Channels.Email, email, s.New.Topics, s.New.Cadence, s.New.TimeZone, s.LastDigestAt);
                }

                if (s.New.TelegramChatId is { } chat && filter.Channels.Contains(Channels.Telegram))
                {
                    yield return new Recipient(s.Id, Channels.Telegram, chat.ToString(System.Globalization.CultureInfo.InvariantCulture), s.New.Topics, s.New.Cadence, s.New.TimeZone, s.LastDigestAt);
                }
            }
        }

        public Task<HashSet<string>> FindSuppressedAsync(string channel, IReadOnlyCollection<string> addresses, CancellationToken ct) =>
            Task.FromResult(addresses.Where(a => _suppressed.Contains((channel, a))).ToHashSet());

        public Task MarkDigestSentAsync(IReadOnlyCollection<long> subscriberIds, DateTimeOffset at, CancellationToken ct)
        {
            foreach (var s in _subscribers.Where(s => subscriberIds.Contains(s.Id)))
            {
                s.LastDigestAt = at;
            }

            return Task.CompletedTask;
        }

        public Task SeedAsync(IEnumerable<NewSubscriber> subscribers, CancellationToken ct)
        {
            foreach (var s in subscribers)
            {
                _subscribers.Add(new Stored(_subscribers.Count + 1, s));
            }

            return Task.CompletedTask;
        }

        /// <summary>Stand-in only: the real store has its own suppression API.</summary>
        public void Suppress(string channel, string address) => _suppressed.Add((channel, address));

        private sealed class Stored(long id, NewSubscriber subscriber)
        {
            public long Id { get; } = id;

            public NewSubscriber New { get; } = subscriber;

            public DateTimeOffset? LastDigestAt { get; set; }
        }
    }
}

namespace NewsBot.Templates
{
    /// <summary>Stand-in: a message rendered once, with markers where each recipient's links go.</summary>
    public sealed record RenderedMessage(string Subject, string Body)
    {
        public const string PreferencesMarker = "{{preferences_url}}";
        public const string UnsubscribeMarker = "{{unsubscribe_url}}";

        public string Personalise(SubscriberLinks links) =>
            Body.Replace(PreferencesMarker, links.PreferencesUrl, StringComparison.Ordinal)
                .Replace(UnsubscribeMarker, links.UnsubscribeUrl, StringComparison.Ordinal);
    }

    /// <summary>Stand-in renderer: plain concatenation, enough for the ledger tests.</summary>
    public sealed class TemplateRenderer
    {
        public RenderedMessage RenderPost(TemplatePost post, MessageFormat format) =>
            new(post.Title, $"[{format}] {post.Title}\n{post.Url}\n{post.Summary}\n{RenderedMessage.UnsubscribeMarker}");

        public RenderedMessage RenderDigest(IReadOnlyList<TemplatePost> posts, DigestPeriod period, MessageFormat format)
        {
            var body = new StringBuilder($"[{format}] {period.Cadence} digest\n");
            foreach (var post in posts)
            {
                body.Append(post.Title).Append('\n');
            }

            return new RenderedMessage($"Your {period.Cadence} digest: {posts.Count} posts", body.Append(RenderedMessage.UnsubscribeMarker).ToString());
        }
    }

    public static class TemplateServices
    {
        public static IHostApplicationBuilder AddTemplates(this IHostApplicationBuilder builder)
        {
            builder.Services.AddSingleton<TemplateRenderer>();
            return builder;
        }
    }
}
