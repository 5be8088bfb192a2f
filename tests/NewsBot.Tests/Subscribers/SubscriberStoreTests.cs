using NewsBot.Storage;
using NewsBot.Subscribers;
using NewsBot.Tests.Posts;
using NewsBot.Tests.Storage;

namespace NewsBot.Tests.Subscribers;

public abstract class SubscriberStoreTests(string provider) : IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 9, 0, 0, TimeSpan.Zero);

    private readonly TempDatabase _temp = new(provider);
    private readonly ManualTime _time = new(Start);

    public void Dispose() => _temp.Dispose();

    [SkippableFact]
    public async Task AddAsync_ThenGet_ReturnsTheNormalizedSubscriber()
    {
        var store = await CreateStoreAsync();

        var id = await store.AddAsync(
            new NewSubscriber("  Alice@Example.COM ", -1001234567890, ["Sanctions", "nuclear", "sanctions"], Cadence.Daily, "Asia/Tokyo", " Alice "),
            Ct);

        var alice = await store.GetAsync(id, Ct);
        Assert.NotNull(alice);
        Assert.Equal(id, alice.Id);
        Assert.Equal("Alice", alice.Name);
        Assert.Equal(Cadence.Daily, alice.Cadence);
        Assert.Equal("Asia/Tokyo", alice.TimeZone);
        Assert.Equal(["nuclear", "sanctions"], alice.Topics);
        Assert.Equal(
            [new SubscriberChannel("email", "alice@example.com", ChannelStatus.Active), new SubscriberChannel("telegram", "-1001234567890", ChannelStatus.Active)],
            alice.Channels);
        Assert.Equal(Start, alice.CreatedAt);
        Assert.Null(alice.LastDigestAt);
        Assert.Null(await store.GetAsync(id + 1, Ct));
        var lowerCaseZone = await store.AddAsync(new NewSubscriber(null, 7, [], Cadence.Weekly, "utc"), Ct);
        Assert.Equal("UTC", (await store.GetAsync(lowerCaseZone, Ct))!.TimeZone);
    }

    [SkippableFact]
    public async Task FindByAddressAsync_FindsTheSubscriberOfAnAddressWhateverItsStatus()
    {
        var store = await CreateStoreAsync();
        await store.AddAsync(new NewSubscriber("other@example.org", 5, [], Cadence.Instant), Ct);
        var id = await store.AddAsync(new NewSubscriber("bob@example.org", -1009, ["nuclear"], Cadence.Weekly), Ct);
        await store.SetChannelStatusAsync(Channels.Telegram, "-1009", ChannelStatus.Unsubscribed, Ct);

        var byChat = await store.FindByAddressAsync(Channels.Telegram, " -1009 ", Ct);
        var byEmail = await store.FindByAddressAsync(Channels.Email, "BOB@example.org", Ct);

        Assert.Equal(id, byChat!.Id);
        Assert.Equal(["nuclear"], byChat.Topics);
        Assert.Contains(new SubscriberChannel("telegram", "-1009", ChannelStatus.Unsubscribed), byChat.Channels);
        Assert.Equal(id, byEmail!.Id);
        Assert.Null(await store.FindByAddressAsync(Channels.Telegram, "-1010", Ct));
        var bad = await Assert.ThrowsAsync<SubscriberException>(() => store.FindByAddressAsync(Channels.Telegram, "abc", Ct));
        Assert.Contains("'abc'", bad.Message);
    }

    [SkippableFact]
    public async Task ListAsync_PagesByIdAfterTheGivenOne()
    {
        var store = await CreateStoreAsync();
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await store.AddAsync(new NewSubscriber($"reader{i}@example.com", null, [], Cadence.Instant), Ct));
        }

        var first = await store.ListAsync(2, 0, Ct);
        var second = await store.ListAsync(2, first[^1].Id, Ct);
        var third = await store.ListAsync(2, second[^1].Id, Ct);
        var after = await store.ListAsync(2, third[^1].Id, Ct);

        Assert.Equal(ids, first.Concat(second).Concat(third).Select(s => s.Id));
        Assert.Single(third);
        Assert.Empty(after);
        Assert.Equal("reader3@example.com", second[1].Channels.Single().Address);
        Assert.Equal(5, await store.CountAsync(Ct));
    }

    [SkippableTheory]
    [InlineData("bob@", null, "UTC", "email 'bob@' is not an address")]
    [InlineData("Bob <bob@example.com>", null, "UTC", "email 'Bob <bob@example.com>' is not an address")]
    [InlineData("bob@example.com", null, "Mars/Olympus_Mons", "time_zone 'Mars/Olympus_Mons' is not an IANA time zone")]
    [InlineData("bob@example.com", null, "Asia", "time_zone 'Asia' is not an IANA time zone")]
    [InlineData("bob@example.com", null, "../../../etc/passwd", "time_zone '../../../etc/passwd' is not an IANA time zone")]
    [InlineData("bob@example.com", 0L, "UTC", "telegram '0' is not a chat id")]
    [InlineData(null, null, "UTC", "email and telegram are both empty")]
    public async Task AddAsync_BadInput_NamesTheFieldAndTheValue(string? email, long? telegram, string timeZone, string message)
    {
        var store = await CreateStoreAsync();

        var error = await Assert.ThrowsAsync<SubscriberException>(
            () => store.AddAsync(new NewSubscriber(email, telegram, [], Cadence.Daily, timeZone), Ct));

        Assert.StartsWith(message, error.Message);
        Assert.Equal(0, await store.CountAsync(Ct));
    }

    [SkippableFact]
    public async Task AddAsync_AddressOfAnotherSubscriber_IsRefusedAndNothingIsStored()
    {
        var store = await CreateStoreAsync();
        var first = await store.AddAsync(new NewSubscriber("alice@example.com", 42, [], Cadence.Instant), Ct);

        var email = await Assert.ThrowsAsync<SubscriberException>(
            () => store.AddAsync(new NewSubscriber("ALICE@example.com", null, [], Cadence.Daily), Ct));
        // The new email is free but the chat is taken: the whole subscriber is refused, the email included.
        var chat = await Assert.ThrowsAsync<SubscriberException>(
            () => store.AddAsync(new NewSubscriber("other@example.com", 42, ["nuclear"], Cadence.Daily), Ct));

        Assert.Equal($"email 'alice@example.com' already belongs to subscriber {first}", email.Message);
        Assert.Equal($"telegram '42' already belongs to subscriber {first}", chat.Message);
        Assert.Equal(1, await store.CountAsync(Ct));
        var added = await store.AddAsync(new NewSubscriber("other@example.com", null, [], Cadence.Daily), Ct);
        Assert.Equal("other@example.com", (await store.GetAsync(added, Ct))!.Channels.Single().Address);
    }

    [SkippableFact]
    public async Task StreamRecipientsAsync_FiltersByChannelCadenceTopicsAndStatus()
    {
        var store = await CreateStoreAsync();
        var all = await store.AddAsync(new NewSubscriber("all@example.com", 1001, [], Cadence.Instant), Ct);
        var sanctions = await store.AddAsync(new NewSubscriber("sanctions@example.com", null, ["sanctions"], Cadence.Instant), Ct);
        var nuclear = await store.AddAsync(new NewSubscriber(null, 1003, ["nuclear"], Cadence.Instant), Ct);
        var daily = await store.AddAsync(new NewSubscriber("daily@example.com", null, ["sanctions", "russia"], Cadence.Daily), Ct);
        await store.AddAsync(new NewSubscriber("off@example.com", 1005, [], Cadence.Off), Ct);
        await store.AddAsync(new NewSubscriber("pending@example.com", null, [], Cadence.Instant, Status: ChannelStatus.PendingConfirmation), Ct);
        var bounced = await store.AddAsync(new NewSubscriber("bounced@example.com", 1007, [], Cadence.Instant), Ct);
        await store.SetChannelStatusAsync("email", "Bounced@Example.com", ChannelStatus.Bounced, Ct);

        var any = await StreamAsync(store, new RecipientFilter(Channels.All, null, null));
        var instantSanctions = await StreamAsync(store, new RecipientFilter(Channels.All, Cadence.Instant, ["sanctions"]));
        var emailOnly = await StreamAsync(store, new RecipientFilter([Channels.Email], null, ["sanctions", "nuclear"]));
        var dailyRussia = await StreamAsync(store, new RecipientFilter(Channels.All, Cadence.Daily, ["russia"]));
        var onlyAllTopics = await StreamAsync(store, new RecipientFilter(Channels.All, null, []));
        var off = await StreamAsync(store, new RecipientFilter(Channels.All, Cadence.Off, null));

        Assert.Equal(
            [(all, "email"), (all, "telegram"), (sanctions, "email"), (nuclear, "telegram"), (daily, "email"), (bounced, "telegram")],
            any.Select(r => (r.SubscriberId, r.Channel)));
        Assert.Equal([(all, "email"), (all, "telegram"), (sanctions, "email"), (bounced, "telegram")], instantSanctions.Select(r => (r.SubscriberId, r.Channel)));
        Assert.Equal([all, sanctions, daily], emailOnly.Select(r => r.SubscriberId));
        var russia = Assert.Single(dailyRussia);
        Assert.Equal(new Recipient(daily, "email", "daily@example.com", russia.Topics, Cadence.Daily, "UTC", null), russia);
        Assert.Equal(["russia", "sanctions"], russia.Topics);
        Assert.Empty(any.Single(r => r.SubscriberId == all && r.Channel == "email").Topics);
        Assert.Equal([all, all, bounced], onlyAllTopics.Select(r => r.SubscriberId));
        Assert.Equal(["off@example.com", "1005"], off.Select(r => r.Address));
    }

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public async Task StreamRecipientsAsync_SmallPages_YieldEveryRecipientOnceInOrder(int pageSize)
    {
        var store = await CreateStoreAsync();
        var expected = new List<(long, string)>();
        for (var i = 1; i <= 25; i++)
        {
            // Some on both channels, so a page can end between the two channels of one subscriber.
            var email = i % 3 != 0 ? $"reader{i}@example.com" : null;
            long? chat = i % 2 == 0 || email is null ? 5000 + i : null;
            string[] topics = i % 4 == 0 ? ["nuclear"] : i % 4 == 1 ? [] : ["trade", "sanctions"];
            var id = await store.AddAsync(new NewSubscriber(email, chat, topics, i % 5 == 0 ? Cadence.Off : Cadence.Instant), Ct);
            if (i % 5 == 0 || i % 4 == 0)
            {
                continue;
            }

            if (email is not null)
            {
                expected.Add((id, "email"));
            }

            if (chat is not null)
            {
                expected.Add((id, "telegram"));
            }
        }

        var streamed = await StreamAsync(store, new RecipientFilter(Channels.All, null, ["sanctions"]), pageSize);

        Assert.Equal(expected, streamed.Select(r => (r.SubscriberId, r.Channel)));
        Assert.All(streamed, r => Assert.True(r.Topics.Count == 0 || r.Topics.SequenceEqual(["sanctions", "trade"])));
    }

    [SkippableFact]
    public async Task StreamRecipientsAsync_TwentyThousandSeeded_StreamsEveryOne()
    {
        var store = await CreateStoreAsync();
        await store.SeedAsync(Enumerable.Range(1, 20_000).Select(i => new NewSubscriber(
            i % 4 != 0 ? $"reader{i}@example.com" : null,
            i % 2 == 0 ? 900_000 + i : null,
            i % 3 == 0 ? ["nuclear"] : [],
            Cadence.Instant)), Ct);

        var count = 0;
        var nuclear = 0;
        var previous = (0L, "");
        await foreach (var recipient in store.StreamRecipientsAsync(new RecipientFilter(Channels.All, null, null), 1000, Ct))
        {
            Assert.True(recipient.SubscriberId > previous.Item1 || (recipient.SubscriberId == previous.Item1 && string.CompareOrdinal(recipient.Channel, previous.Item2) > 0));
            previous = (recipient.SubscriberId, recipient.Channel);
            count++;
            nuclear += recipient.Topics.Count;
        }

        Assert.Equal(20_000, await store.CountAsync(Ct));
        // 15,000 emails (i not divisible by 4) and 10,000 chats (even i).
        Assert.Equal(25_000, count);
        // Subscribers i divisible by 3 carry "nuclear" on each of their channels.
        Assert.Equal(Enumerable.Range(1, 20_000).Where(i => i % 3 == 0).Sum(i => (i % 4 != 0 ? 1 : 0) + (i % 2 == 0 ? 1 : 0)), nuclear);
    }

    [SkippableFact]
    public async Task SeedAsync_TakenAddress_StopsAndRollsBackItsBatch()
    {
        var store = await CreateStoreAsync();
        await store.AddAsync(new NewSubscriber("taken@example.com", null, [], Cadence.Instant), Ct);

        var error = await Assert.ThrowsAsync<SubscriberException>(() => store.SeedAsync(
            [new NewSubscriber("new@example.com", null, [], Cadence.Daily), new NewSubscriber("Taken@example.com", null, [], Cadence.Daily)], Ct));

        Assert.Equal("email 'taken@example.com' already belongs to subscriber 1", error.Message);
        Assert.Equal(1, await store.CountAsync(Ct));
    }

    [SkippableFact]
    public async Task ChangeChannelStatusAsync_ChangesOnlyFromTheGivenStatuses_OfThatChannel()
    {
        var store = await CreateStoreAsync();
        var id = await store.AddAsync(new NewSubscriber("p@example.org", 55, [], Cadence.Instant, Status: ChannelStatus.PendingConfirmation), Ct);

        var confirmed = await store.ChangeChannelStatusAsync(id, Channels.Email, [ChannelStatus.PendingConfirmation], ChannelStatus.Active, Ct);
        var replayed = await store.ChangeChannelStatusAsync(id, Channels.Email, [ChannelStatus.PendingConfirmation], ChannelStatus.Active, Ct);
        var unsubscribed = await store.ChangeChannelStatusAsync(id, Channels.Email, [ChannelStatus.Active, ChannelStatus.Bounced], ChannelStatus.Unsubscribed, Ct);
        var noSuchSubscriber = await store.ChangeChannelStatusAsync(id + 1, Channels.Email, [ChannelStatus.Unsubscribed], ChannelStatus.Active, Ct);
        var noneAllowed = await store.ChangeChannelStatusAsync(id, Channels.Email, [], ChannelStatus.Active, Ct);
        var subscriber = await store.GetAsync(id, Ct);

        Assert.Equal((true, false, true, false, false), (confirmed, replayed, unsubscribed, noSuchSubscriber, noneAllowed));
        Assert.Equal(
            [new SubscriberChannel("email", "p@example.org", ChannelStatus.Unsubscribed), new SubscriberChannel("telegram", "55", ChannelStatus.PendingConfirmation)],
            subscriber!.Channels);
    }

    [SkippableFact]
    public async Task SetChannelStatusAsync_UnknownAddress_NamesIt()
    {
        var store = await CreateStoreAsync();

        var error = await Assert.ThrowsAsync<SubscriberException>(
            () => store.SetChannelStatusAsync("email", "nobody@example.com", ChannelStatus.Unsubscribed, Ct));

        Assert.Equal("email 'nobody@example.com' belongs to no subscriber", error.Message);
    }

    [SkippableFact]
    public async Task RekeyAddressAsync_MovesTheChannelAndRefusesATakenOrUnknownAddress()
    {
        var store = await CreateStoreAsync();
        var group = await store.AddAsync(new NewSubscriber("g@example.org", -4001, [], Cadence.Instant), Ct);
        await store.AddAsync(new NewSubscriber(null, -1000000000077, [], Cadence.Instant), Ct);

        await store.RekeyAddressAsync("telegram", "-4001", "-1000000004001", Ct);
        var taken = await Assert.ThrowsAsync<SubscriberException>(
            () => store.RekeyAddressAsync("telegram", "-1000000004001", "-1000000000077", Ct));
        var unknown = await Assert.ThrowsAsync<SubscriberException>(
            () => store.RekeyAddressAsync("telegram", "-4001", "-1000000004002", Ct));

        Assert.Equal(
            [new SubscriberChannel("email", "g@example.org", ChannelStatus.Active), new SubscriberChannel("telegram", "-1000000004001", ChannelStatus.Active)],
            (await store.GetAsync(group, Ct))!.Channels);
        Assert.Equal("telegram '-1000000000077' already belongs to subscriber 2; '-1000000004001' keeps its address", taken.Message);
        Assert.Equal("telegram '-4001' belongs to no subscriber", unknown.Message);
    }

    [SkippableFact]
    public async Task SetTopicsCadenceAndDigest_ChangeWhatTheStoreReturns()
    {
        var store = await CreateStoreAsync();
        var id = await store.AddAsync(new NewSubscriber("alice@example.com", null, ["nuclear"], Cadence.Instant), Ct);
        var other = await store.AddAsync(new NewSubscriber("bob@example.com", null, [], Cadence.Daily), Ct);
        var sentAt = Start.AddHours(3);

        await store.SetTopicsAsync(id, ["Trade", "china"], Ct);
        await store.SetCadenceAsync(id, Cadence.Weekly, Ct);
        await store.MarkDigestSentAsync([id, other], sentAt, Ct);

        var alice = (await store.GetAsync(id, Ct))!;
        Assert.Equal(["china", "trade"], alice.Topics);
        Assert.Equal(Cadence.Weekly, alice.Cadence);
        Assert.Equal(sentAt, alice.LastDigestAt);
        Assert.Equal(sentAt, (await store.GetAsync(other, Ct))!.LastDigestAt);
        await store.SetTopicsAsync(id, [], Ct);
        Assert.Empty((await store.GetAsync(id, Ct))!.Topics);
        var missing = await Assert.ThrowsAsync<SubscriberException>(() => store.SetCadenceAsync(other + 10, Cadence.Off, Ct));
        Assert.Equal($"subscriber {other + 10} does not exist", missing.Message);
    }

    [SkippableFact]
    public async Task Suppression_IsFoundCaseInsensitivelyAndCanBeLifted()
    {
        var store = await CreateStoreAsync();
        await store.SuppressAsync("email", " Spam@Example.com", "complaint", Ct);
        await store.SuppressAsync("telegram", "-100123", "blocked the bot", Ct);

        var emails = await store.FindSuppressedAsync("email", ["spam@example.com", "SPAM@example.com", "ok@example.com"], Ct);
        var chats = await store.FindSuppressedAsync("telegram", ["-100123", "100123"], Ct);
        var many = await store.FindSuppressedAsync("email", [.. Enumerable.Range(0, 1200).Select(i => $"r{i}@example.com"), "spam@example.com"], Ct);
        var lifted = await store.UnsuppressAsync("email", "SPAM@example.com", Ct);
        var liftedAgain = await store.UnsuppressAsync("email", "spam@example.com", Ct);

        Assert.Contains("spam@example.com", emails);
        Assert.Contains("SPAM@example.com", emails);
        Assert.DoesNotContain("ok@example.com", emails);
        Assert.Equal(["-100123"], chats);
        Assert.Equal(["spam@example.com"], many);
        Assert.True(lifted);
        Assert.False(liftedAgain);
        Assert.Empty(await store.FindSuppressedAsync("email", ["spam@example.com"], Ct));
        var bad = await Assert.ThrowsAsync<SubscriberException>(() => store.SuppressAsync("telegram", "@so", "x", Ct));
        Assert.StartsWith("telegram '@so' is not a chat id", bad.Message);
    }

    private async Task<SubscriberStore> CreateStoreAsync() => new(await _temp.OpenMigratedAsync(), _time);

    private static async Task<List<Recipient>> StreamAsync(SubscriberStore store, RecipientFilter filter, int pageSize = 100)
    {
        var recipients = new List<Recipient>();
        await foreach (var recipient in store.StreamRecipientsAsync(filter, pageSize, Ct))
        {
            recipients.Add(recipient);
        }

        return recipients;
    }
}

public sealed class SubscriberStoreSqliteTests() : SubscriberStoreTests(Db.SqliteProvider);

public sealed class SubscriberStorePostgresqlTests() : SubscriberStoreTests(Db.PostgresqlProvider);
