using Microsoft.Extensions.Options;

using NewsBot.Delivery;
using NewsBot.Feeds;
using NewsBot.Posts;
using NewsBot.Subscribers;
using NewsBot.Telegram;
using NewsBot.Templates;

namespace NewsBot.Tests.Telegram;

public sealed class BotCommandsTests : IDisposable
{
    private const long Chat = 1001;
    private const long AdminChat = 42;
    private const long Group = -100123;
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly TestHost host = TestHost.Create();

    public void Dispose() => host.Dispose();

    [Fact]
    public async Task Start_registers_the_chat_for_every_topic_and_offers_topic_buttons()
    {
        var (bot, services) = await StartAsync();

        var reply = await SingleAsync(bot, Private("/start"));

        var subscriber = await FindAsync(services, Chat);
        Assert.NotNull(subscriber);
        Assert.Empty(subscriber.Topics);
        Assert.Equal(Cadence.Instant, subscriber.Cadence);
        Assert.Equal(ChannelStatus.Active, Assert.Single(subscriber.Channels).Status);
        Assert.NotNull(reply.Keyboard);
        var data = reply.Keyboard.SelectMany(row => row).Select(b => b.CallbackData).ToList();
        Assert.Contains("sub:sanctions", data);
        Assert.Contains("sub:nuclear", data);

        // A second /start adds no second subscriber.
        await SingleAsync(bot, Private("/start"));
        Assert.Equal(1, await services.GetRequiredService<SubscriberStore>().CountAsync(Ct));
    }

    [Fact]
    public async Task Latest_lists_five_by_default_and_takes_a_count_from_1_to_20()
    {
        var (bot, services) = await StartAsync();
        await PollSampleAsync(services);
        var newest = await services.GetRequiredService<PostStore>().LatestAsync(5, null, Ct);

        var five = await SingleAsync(bot, Private("/latest"));
        var three = await SingleAsync(bot, Private("/LATEST 3"));

        Assert.Equal(5, LinkCount(five.Text));
        Assert.Contains(HtmlText.Escape(newest[0].Title), five.Text);
        Assert.Contains(HtmlText.Escape(newest[4].Title), five.Text);
        Assert.Equal(3, LinkCount(three.Text));
        Assert.DoesNotContain(HtmlText.Escape(newest[3].Title), three.Text);
        Assert.Contains((newest[0].Published ?? newest[0].FirstSeen).UtcDateTime.ToString("yyyy-MM-dd"), three.Text);

        var word = await SingleAsync(bot, Private("/latest abc"));
        var tooMany = await SingleAsync(bot, Private("/latest 500"));
        Assert.Contains("from 1 to 20", word.Text);
        Assert.Equal(0, LinkCount(word.Text));
        Assert.Contains("from 1 to 20", tooMany.Text);
    }

    [Fact]
    public async Task Topic_lists_a_topic_and_searches_other_words()
    {
        var (bot, services) = await StartAsync();
        await PollSampleAsync(services);

        var sanctions = await SingleAsync(bot, Private("/topic sanctions"));
        var waste = await SingleAsync(bot, Private("/topic nuclear waste"));
        var nothing = await SingleAsync(bot, Private("/topic zzyzx"));

        var tagged = await services.GetRequiredService<PostStore>().LatestAsync(20, "sanctions", Ct);
        Assert.NotEmpty(tagged);
        Assert.Equal(tagged.Count, LinkCount(sanctions.Text));
        Assert.Contains("Cabinet Approves Additional Sanctions on Russian Banks", sanctions.Text);
        Assert.Contains("Literature Survey for a Final Disposal Site Completed", waste.Text);
        Assert.Contains("not a topic", waste.Text);
        Assert.Contains("no post matches", nothing.Text);
        Assert.Equal(0, LinkCount(nothing.Text));
    }

    [Fact]
    public async Task Subscribe_and_settings_round_trip_and_unknown_topic_lists_the_known_ones()
    {
        var (bot, services) = await StartAsync();

        await SingleAsync(bot, Private("/subscribe sanctions"));
        await SingleAsync(bot, Private("/subscribe North Korea"));
        var unknown = await SingleAsync(bot, Private("/subscribe gardening"));
        var settings = await SingleAsync(bot, Private("/settings"));

        Assert.Equal(["north-korea", "sanctions"], (await FindAsync(services, Chat))!.Topics);
        Assert.Contains("Topics: north-korea, sanctions", settings.Text);
        Assert.Contains("Cadence: each post as it appears", settings.Text);
        Assert.Contains("Time zone: UTC", settings.Text);
        Assert.Contains("no topic <b>gardening</b>", unknown.Text);
        Assert.Contains("nuclear", unknown.Text);

        await SingleAsync(bot, Private("/unsubscribe sanctions"));
        Assert.Equal(["north-korea"], (await FindAsync(services, Chat))!.Topics);
    }

    [Fact]
    public async Task Topic_button_callback_subscribes_and_topics_marks_it()
    {
        var (bot, services) = await StartAsync();
        await SingleAsync(bot, Private("/start"));

        var reply = await bot.HandleCallbackAsync(new IncomingCallback(Chat, "private", Chat, "sub:nuclear"), Ct);
        var list = await SingleAsync(bot, Private("/topics"));

        Assert.Contains("nuclear", reply.Text);
        Assert.Equal(["nuclear"], (await FindAsync(services, Chat))!.Topics);
        Assert.Contains("• sanctions\n✅ nuclear\n", list.Text);
        Assert.Contains("unsub:nuclear", list.Keyboard!.SelectMany(r => r).Select(b => b.CallbackData));
    }

    [Fact]
    public async Task Unsubscribe_all_and_stop_set_the_channel_unsubscribed_and_start_reactivates()
    {
        var (bot, services) = await StartAsync();
        await SingleAsync(bot, Private("/start"));

        await SingleAsync(bot, Private("/unsubscribe all"));
        Assert.Equal(ChannelStatus.Unsubscribed, Assert.Single((await FindAsync(services, Chat))!.Channels).Status);

        await SingleAsync(bot, Private("/start"));
        Assert.Equal(ChannelStatus.Active, Assert.Single((await FindAsync(services, Chat))!.Channels).Status);

        var stop = await SingleAsync(bot, Private("/stop"));
        Assert.Contains("Stopped", stop.Text);
        Assert.Equal(ChannelStatus.Unsubscribed, Assert.Single((await FindAsync(services, Chat))!.Channels).Status);

        var again = await SingleAsync(bot, Private("/start"));
        Assert.Contains("Welcome back", again.Text);
        Assert.Equal(ChannelStatus.Active, Assert.Single((await FindAsync(services, Chat))!.Channels).Status);
    }

    [Fact]
    public async Task Digest_sets_the_cadence_and_a_bad_one_explains()
    {
        var (bot, services) = await StartAsync();

        await SingleAsync(bot, Private("/digest weekly"));
        var bad = await SingleAsync(bot, Private("/digest hourly"));

        Assert.Equal(Cadence.Weekly, (await FindAsync(services, Chat))!.Cadence);
        Assert.Contains("/digest daily", bad.Text);
    }

    [Fact]
    public async Task In_groups_commands_for_another_bot_are_ignored_and_only_chat_admins_change_the_subscription()
    {
        var (bot, services) = await StartAsync();
        await PollSampleAsync(services);

        var ours = await bot.HandleAsync(InGroup("/latest@NewsBot 2", admin: false), Ct);
        var theirs = await bot.HandleAsync(InGroup("/latest@OtherBot", admin: false), Ct);
        var chatter = await bot.HandleAsync(InGroup("hello everyone", admin: false), Ct);
        var refused = await SingleAsync(bot, InGroup("/subscribe sanctions", admin: false));

        Assert.Equal(2, LinkCount(Assert.Single(ours).Text));
        Assert.Empty(theirs);
        Assert.Empty(chatter);
        Assert.Contains("chat admin", refused.Text);
        Assert.Null(await FindAsync(services, Group));

        await SingleAsync(bot, InGroup("/subscribe sanctions", admin: true));
        Assert.Equal(["sanctions"], (await FindAsync(services, Group))!.Topics);
    }

    [Fact]
    public async Task Admin_stats_counts_subscribers_posts_and_sends()
    {
        var (bot, services) = await StartAsync();
        await PollSampleAsync(services);
        await SingleAsync(bot, Private("/start"));
        var postCount = await services.GetRequiredService<PostStore>().CountAsync(Ct);

        var stats = await SingleAsync(bot, Admin("/stats"));
        var refused = await SingleAsync(bot, Private("/stats"));

        Assert.Contains("Subscribers: 1", stats.Text);
        Assert.Contains($"Posts: {postCount}", stats.Text);
        Assert.Contains("admins only", refused.Text);
        Assert.DoesNotContain("Subscribers", refused.Text);
    }

    [Fact]
    public async Task Admin_send_is_a_dry_run_until_the_confirm_callback()
    {
        var (bot, services) = await StartAsync();
        await PollSampleAsync(services);
        await SingleAsync(bot, Private("/start"));
        var deliveries = services.GetRequiredService<DeliveryStore>();
        var latest = (await services.GetRequiredService<PostStore>().LatestAsync(1, null, Ct))[0];

        var dryRun = await SingleAsync(bot, Admin("/send latest"));

        Assert.Contains("1 recipient (1 by telegram)", dryRun.Text);
        var button = Assert.Single(Assert.Single(dryRun.Keyboard!));
        Assert.Equal($"send:{latest.Id}", button.CallbackData);
        Assert.Empty(await deliveries.ListLatestSendsAsync(5, Ct));

        var notAdmin = await bot.HandleCallbackAsync(new IncomingCallback(Chat, "private", Chat, button.CallbackData), Ct);
        Assert.Contains("admins only", notAdmin.Text);
        Assert.Empty(await deliveries.ListLatestSendsAsync(5, Ct));

        var confirmed = await bot.HandleCallbackAsync(new IncomingCallback(AdminChat, "private", AdminChat, button.CallbackData), Ct);

        var send = Assert.Single(await deliveries.ListLatestSendsAsync(5, Ct));
        Assert.Equal(latest.Id, send.PostId);
        Assert.Equal($"telegram:{AdminChat}", send.RequestedBy);
        Assert.Contains($"Send <b>{send.Id}</b> started", confirmed.Text);
        Assert.Equal(1, (await deliveries.CountStatesAsync(send.Id, Ct)).Values.Sum());

        var stats = await SingleAsync(bot, Admin("/stats"));
        Assert.Contains($"#{send.Id} post {latest.Id}", stats.Text);
        Assert.Contains("pending 1", stats.Text);
    }

    [Fact]
    public async Task Admin_preview_and_bad_admin_arguments_answer()
    {
        var (bot, services) = await StartAsync();
        await PollSampleAsync(services);
        var latest = (await services.GetRequiredService<PostStore>().LatestAsync(1, null, Ct))[0];

        var preview = await SingleAsync(bot, Admin($"/preview {latest.Id}"));
        var missing = await SingleAsync(bot, Admin("/preview 999999"));
        var notNumber = await SingleAsync(bot, Admin("/send soon"));
        var nobody = await SingleAsync(bot, Admin("/send latest"));

        Assert.Contains(HtmlText.Escape(latest.Title), preview.Text);
        Assert.Contains("999999", missing.Text);
        Assert.Contains("/send latest", notNumber.Text);
        Assert.Contains("No subscriber would get", nobody.Text);
        Assert.Null(nobody.Keyboard);
    }

    [Fact]
    public async Task Unknown_command_empty_and_overlong_arguments_get_a_helpful_reply()
    {
        var (bot, _) = await StartAsync();

        var unknown = await SingleAsync(bot, Private("/frobnicate <b>"));
        var help = await SingleAsync(bot, Private("/help"));
        var empty = await SingleAsync(bot, Private("/search"));
        var overlong = await SingleAsync(bot, Private("/search " + new string('x', 201)));
        var plain = await SingleAsync(bot, Private("hello"));
        var longWord = await SingleAsync(bot, Private("/" + new string('y', 5000)));

        Assert.Contains("I do not know /frobnicate", unknown.Text);
        Assert.Contains("/latest", help.Text);
        Assert.DoesNotContain("/stats", help.Text);
        Assert.Contains("/stats", (await SingleAsync(bot, Admin("/help"))).Text);
        Assert.Contains("Search for what?", empty.Text);
        Assert.Contains("at most 200 characters", overlong.Text);
        Assert.Contains("/help", plain.Text);
        Assert.Contains("not a command I know", longWord.Text);
        Assert.DoesNotContain("yyy", longWord.Text);
    }

    [Fact]
    public async Task Titles_and_arguments_are_escaped()
    {
        var (bot, services) = await StartAsync();
        await SavePostsAsync(services, [("evil", "<script>alert(1)</script> & co", "javascript:alert(1)")]);

        var latest = await SingleAsync(bot, Private("/latest 1"));
        var search = await SingleAsync(bot, Private("/search a & b < c"));

        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co", latest.Text);
        Assert.DoesNotContain("<script>", latest.Text);
        Assert.DoesNotContain("javascript:", latest.Text);
        Assert.Contains("a &amp; b &lt; c", search.Text);
    }

    [Fact]
    public async Task Latest_20_with_long_titles_fits_4096_characters_and_says_how_many_more()
    {
        var (bot, services) = await StartAsync();
        await SavePostsAsync(services, [.. Enumerable.Range(1, 20).Select(i =>
            ($"long-{i}", $"Post {i} " + string.Concat(Enumerable.Repeat("very long title & more ", 20)), $"https://blog.example/{i}"))]);

        var reply = await SingleAsync(bot, Private("/latest 20"));

        var shown = LinkCount(reply.Text);
        Assert.InRange(HtmlText.VisibleLength(reply.Text), 3000, BotCommands.MaxLength);
        Assert.InRange(shown, 1, 19);
        Assert.EndsWith($"…and {20 - shown} more", reply.Text);
    }

    private async Task<(BotCommands Bot, IServiceProvider Services)> StartAsync()
    {
        var services = await host.StartAsync();
        var options = Options.Create(new TelegramBotOptions { BotUsername = "NewsBot", AdminChatIds = [AdminChat] });
        return (ActivatorUtilities.CreateInstance<BotCommands>(services, options), services);
    }

    private static Task PollSampleAsync(IServiceProvider services) =>
        services.GetRequiredService<FeedRefresher>().RefreshFeedAsync("sample", true, null, Ct);

    private static async Task SavePostsAsync(IServiceProvider services, (string Key, string Title, string Url)[] posts)
    {
        await services.GetRequiredService<FeedStateStore>().EnsureAsync("blog", "https://blog.example/feed", Ct);
        var now = DateTimeOffset.UtcNow;
        var saved = await services.GetRequiredService<PostStore>().SaveAsync("blog",
            [.. posts.Select((p, i) => new NewPost(p.Key, p.Url, p.Title, null, now.AddMinutes(-i), null, [], ["sanctions"],
                "<p>body</p>", "summary", "hash-" + p.Key))], Ct);
        Assert.Equal(posts.Length, saved.InsertedIds.Count);
    }

    private static Task<Subscriber?> FindAsync(IServiceProvider services, long chatId) =>
        services.GetRequiredService<SubscriberStore>().FindByAddressAsync(Channels.Telegram, chatId.ToString(), Ct);

    private static async Task<BotReply> SingleAsync(BotCommands bot, IncomingMessage message) =>
        Assert.Single(await bot.HandleAsync(message, Ct));

    private static int LinkCount(string html) => html.Split("<a href=").Length - 1;

    private static IncomingMessage Private(string text) => new(Chat, "private", Chat, "reader", text);

    private static IncomingMessage Admin(string text) => new(AdminChat, "private", AdminChat, "boss", text);

    private static IncomingMessage InGroup(string text, bool admin) => new(Group, "supergroup", 7, "member", text, admin);
}
