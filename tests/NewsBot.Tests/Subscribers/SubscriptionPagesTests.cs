using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

using Microsoft.Extensions.Options;

using NewsBot.Storage;
using NewsBot.Subscribers;
using NewsBot.Tests.Posts;

using static NewsBot.Tests.Subscribers.SubscriptionSite;

namespace NewsBot.Tests.Subscribers;

public sealed class SubscriptionPagesTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task Subscribe_Confirm_ChangePreferences_Unsubscribe()
    {
        await using var site = await StartAsync();

        var subscribed = await site.SubscribeAsync("Reader@Example.org", "daily", "sanctions", "nuclear");
        var subscribedPage = await subscribed.Content.ReadAsStringAsync();
        var mail = await site.WaitForMailAsync("reader@example.org");
        var pending = await site.Subscribers.FindByAddressAsync(Channels.Email, "reader@example.org", Ct);
        var audienceWhilePending = await CountRecipientsAsync(site);

        var confirmLink = LinkIn(mail, "/confirm");
        var confirmPage = await site.Browser.GetStringAsync(confirmLink);
        var afterGet = await site.StatusAsync("reader@example.org");
        var confirmed = await site.Browser.PostAsync(FormAction(confirmPage, confirmLink), Form(("csrf", CsrfField(confirmPage))));
        var confirmedPage = await confirmed.Content.ReadAsStringAsync();
        var replay = await site.Browser.PostAsync(FormAction(confirmPage, confirmLink), Form(("csrf", CsrfField(confirmPage))));

        Assert.Equal(HttpStatusCode.OK, subscribed.StatusCode);
        Assert.Contains("Check your inbox", subscribedPage, StringComparison.Ordinal);
        Assert.Equal("Confirm your subscription to NewsBot", mail.Subject);
        Assert.Contains("sanctions, nuclear", mail.TextBody, StringComparison.Ordinal);
        Assert.Null(mail.Headers[MimeKit.HeaderId.ListUnsubscribe]);
        Assert.Equal(ChannelStatus.PendingConfirmation, pending!.Channels.Single().Status);
        Assert.Equal(["nuclear", "sanctions"], pending.Topics);
        Assert.Equal(Cadence.Daily, pending.Cadence);
        Assert.Equal(0, audienceWhilePending);
        Assert.Contains("<button type=\"submit\">Confirm</button>", confirmPage, StringComparison.Ordinal);
        Assert.Equal(ChannelStatus.PendingConfirmation, afterGet);
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Contains("You are subscribed", confirmedPage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Contains("Already confirmed", await replay.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(ChannelStatus.Active, await site.StatusAsync("reader@example.org"));
        Assert.Equal(1, await CountRecipientsAsync(site));

        // The confirmed page links to the preferences; change topics and cadence there.
        var preferencesLink = "/" + WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(confirmedPage, "href=\"(preferences\\?t=[^\"]+)\"").Groups[1].Value);
        var preferencesPage = await site.Browser.GetStringAsync(preferencesLink);
        var saved = await site.Browser.PostAsync(FormAction(preferencesPage, preferencesLink),
            Form(("csrf", CsrfField(preferencesPage)), ("topics", "ukraine"), ("topics", "russia"), ("cadence", "weekly")));
        var savedPage = await saved.Content.ReadAsStringAsync();
        var changed = await site.Subscribers.FindByAddressAsync(Channels.Email, "reader@example.org", Ct);

        Assert.Contains("value=\"sanctions\" checked", preferencesPage, StringComparison.Ordinal);
        Assert.Contains("value=\"daily\" checked", preferencesPage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        Assert.Contains("Saved.", savedPage, StringComparison.Ordinal);
        Assert.Contains("value=\"ukraine\" checked", savedPage, StringComparison.Ordinal);
        Assert.Equal(["russia", "ukraine"], changed!.Topics);
        Assert.Equal(Cadence.Weekly, changed.Cadence);

        // The unsubscribe form of the preferences page: its GET shows a button, its POST unsubscribes.
        var unsubscribeLink = FormAction(savedPage, preferencesLink, index: 1);
        var unsubscribePage = await site.Browser.GetAsync(unsubscribeLink);
        var stillActive = await site.StatusAsync("reader@example.org");
        var unsubscribed = await site.Browser.PostAsync(FormAction(await unsubscribePage.Content.ReadAsStringAsync(), unsubscribeLink), Form(("List-Unsubscribe", "One-Click")));

        Assert.Equal(HttpStatusCode.OK, unsubscribePage.StatusCode);
        Assert.Equal(ChannelStatus.Active, stillActive);
        Assert.Equal(HttpStatusCode.OK, unsubscribed.StatusCode);
        Assert.Contains("You are unsubscribed", await unsubscribed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(ChannelStatus.Unsubscribed, await site.StatusAsync("reader@example.org"));
        Assert.Equal(0, await CountRecipientsAsync(site));
    }

    [Fact]
    public async Task Pages_AreForPhonesAndCarryNoScriptAndNoReferrer()
    {
        await using var site = await StartAsync();

        var response = await site.Browser.GetAsync("/subscribe");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.True(response.Headers.CacheControl!.NoStore);
        Assert.Contains("name=\"website\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"north-korea\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnsubscribeGet_NeverUnsubscribes()
    {
        await using var site = await StartAsync();
        var id = await site.AddActiveAsync("scanned@example.org");
        var link = "/unsubscribe?t=" + site.Tokens.Create(TokenPurpose.Unsubscribe, id, Channels.Email);

        var answers = new List<HttpStatusCode>();
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Head, HttpMethod.Get })
        {
            using var stranger = site.Stranger();
            answers.Add((await stranger.SendAsync(new HttpRequestMessage(method, link))).StatusCode);
        }

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a));
        Assert.Equal(ChannelStatus.Active, await site.StatusAsync("scanned@example.org"));
    }

    [Fact]
    public async Task OneClickPost_Unsubscribes_AsUrlEncodedOrMultipart_WithoutCookiesOrCsrf()
    {
        await using var site = await StartAsync();
        var first = await site.AddActiveAsync("one@example.org");
        var second = await site.AddActiveAsync("two@example.org");
        using var provider = site.Stranger();

        var urlEncoded = await provider.PostAsync("/unsubscribe?t=" + site.Tokens.Create(TokenPurpose.Unsubscribe, first, Channels.Email),
            new StringContent("List-Unsubscribe=One-Click", Encoding.ASCII, "application/x-www-form-urlencoded"));
        var multipart = await provider.PostAsync("/unsubscribe?t=" + site.Tokens.Create(TokenPurpose.Unsubscribe, second, Channels.Email),
            new MultipartFormDataContent { { new StringContent("One-Click"), "List-Unsubscribe" } });
        var again = await provider.PostAsync("/unsubscribe?t=" + site.Tokens.Create(TokenPurpose.Unsubscribe, first, Channels.Email),
            new StringContent("List-Unsubscribe=One-Click", Encoding.ASCII, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.OK, urlEncoded.StatusCode);
        Assert.Equal(HttpStatusCode.OK, multipart.StatusCode);
        Assert.False(urlEncoded.Headers.Contains("Set-Cookie"));
        Assert.Equal(ChannelStatus.Unsubscribed, await site.StatusAsync("one@example.org"));
        Assert.Equal(ChannelStatus.Unsubscribed, await site.StatusAsync("two@example.org"));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("was already unsubscribed", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "text/plain")]
    [InlineData("List-Unsubscribe=Yes", "application/x-www-form-urlencoded")]
    [InlineData("", "application/x-www-form-urlencoded")]
    [InlineData("unsubscribe=1", "application/x-www-form-urlencoded")]
    public async Task PostWithoutTheOneClickBody_Is400_AndChangesNothing(string body, string contentType)
    {
        await using var site = await StartAsync();
        var id = await site.AddActiveAsync("kept@example.org");
        using var provider = site.Stranger();

        var response = await provider.PostAsync("/unsubscribe?t=" + site.Tokens.Create(TokenPurpose.Unsubscribe, id, Channels.Email),
            new StringContent(body, Encoding.ASCII, contentType));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Nothing was changed", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(ChannelStatus.Active, await site.StatusAsync("kept@example.org"));
    }

    /// <summary>
    /// RFC 8058 §8 and RFC 2369 §3.2 cases of ../shared/corpus: where one-click applies, the POST the receiver makes
    /// (method, content type, body, length) sent to a NewsBot unsubscribe link unsubscribes; where it does not, the
    /// receiver can only open the link, and that GET unsubscribes nobody.
    /// </summary>
    [SkippableFact]
    public async Task Corpus_ListUnsubscribeCases_OneClickPostUnsubscribes_OtherwiseTheLinkOnlyShowsAPage()
    {
        var path = TestPaths.RequireCorpus("email/rfc8058/list-unsubscribe-cases.json");
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(path));
        await using var site = await StartAsync();
        var oneClick = 0;
        var other = 0;
        foreach (var item in json.RootElement.GetProperty("cases").EnumerateArray())
        {
            var caseId = item.GetProperty("id").GetString()!;
            var expect = item.GetProperty("expect");
            var email = $"{caseId}@example.org";
            var id = await site.AddActiveAsync(email);
            var link = "/unsubscribe?t=" + site.Tokens.Create(TokenPurpose.Unsubscribe, id, Channels.Email);
            using var provider = site.Stranger();
            HttpResponseMessage response;
            if (expect.GetProperty("one_click").GetBoolean())
            {
                var post = expect.GetProperty("post_request");
                var content = new ByteArrayContent(Encoding.ASCII.GetBytes(post.GetProperty("body").GetString()!));
                content.Headers.ContentType = new MediaTypeHeaderValue(post.GetProperty("content_type").GetString()!);
                Assert.Equal(post.GetProperty("content_length").GetInt32(), (int)content.Headers.ContentLength!);
                response = await provider.SendAsync(new HttpRequestMessage(new HttpMethod(post.GetProperty("method").GetString()!), link) { Content = content });
                Assert.True(await site.StatusAsync(email) == ChannelStatus.Unsubscribed, $"{caseId}: the one-click POST did not unsubscribe");
                oneClick++;
            }
            else
            {
                response = await provider.GetAsync(link);
                Assert.True(await site.StatusAsync(email) == ChannelStatus.Active, $"{caseId}: opening the link unsubscribed");
                other++;
            }

            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{caseId}: {response.StatusCode}");
        }

        Assert.Equal((2, 5), (oneClick, other));
    }

    [Fact]
    public async Task Subscribe_AnswersTheSame_ForKnownAndUnknownAddresses()
    {
        await using var site = await StartAsync();
        await site.AddActiveAsync("known@example.org", "sanctions");
        using var blog = site.Stranger();

        async Task<(HttpStatusCode, string, string)> EmbeddedSubscribeAsync(string email)
        {
            var response = await blog.PostAsync("/subscribe", Form(("email", email), ("topics", "nuclear"), ("cadence", "weekly")));
            var headers = string.Join("\n", response.Headers.Concat(response.Content.Headers)
                .Where(h => h.Key != "Date").OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key}: {string.Join(",", h.Value)}"));
            return (response.StatusCode, (await response.Content.ReadAsStringAsync()).Replace(email, "ADDRESS", StringComparison.Ordinal), headers);
        }

        var known = await EmbeddedSubscribeAsync("known@example.org");
        var unknown = await EmbeddedSubscribeAsync("fresh@example.org");
        var knownMail = await site.WaitForMailAsync("known@example.org");
        var unknownMail = await site.WaitForMailAsync("fresh@example.org");
        var knownAfter = await site.Subscribers.FindByAddressAsync(Channels.Email, "known@example.org", Ct);

        Assert.Equal(HttpStatusCode.OK, known.Item1);
        Assert.Equal(known, unknown);
        // The owner of a known address learns it is subscribed and gets its preferences link; nothing changes.
        Assert.Equal("You are already subscribed to NewsBot", knownMail.Subject);
        LinkIn(knownMail, "/preferences");
        Assert.Equal(ChannelStatus.Active, knownAfter!.Channels.Single().Status);
        Assert.Equal(["sanctions"], knownAfter.Topics);
        Assert.Equal(Cadence.Daily, knownAfter.Cadence);
        Assert.Equal("Confirm your subscription to NewsBot", unknownMail.Subject);
        Assert.Equal(ChannelStatus.PendingConfirmation, await site.StatusAsync("fresh@example.org"));
    }

    [Fact]
    public async Task Subscribe_IsRateLimitedPerClientAddress()
    {
        await using var site = await StartAsync(("NewsBot:Subscriptions:RateLimit", "2"), ("NewsBot:Subscriptions:RateLimitWindow", "01:00:00"));
        using var client = site.Stranger();

        var answers = new List<HttpResponseMessage>();
        for (var i = 1; i <= 3; i++)
        {
            answers.Add(await client.PostAsync("/subscribe", Form(("email", $"r{i}@example.org"))));
        }

        await site.WaitForMailAsync("r2@example.org");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], answers.Select(a => a.StatusCode));
        Assert.Equal("3600", answers[2].Headers.GetValues("Retry-After").Single());
        Assert.Contains("Too many requests", await answers[2].Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(await site.StatusAsync("r3@example.org"));
    }

    [Fact]
    public async Task Subscribe_ViaAKnownProxy_IsRateLimitedByTheForwardedClientAddress()
    {
        // The test client connects from loopback, the default known proxy, as nginx on the same machine does.
        await using var site = await StartAsync(("NewsBot:Subscriptions:RateLimit", "2"), ("NewsBot:Subscriptions:RateLimitWindow", "01:00:00"));
        using var proxy = site.Stranger();

        var first = new List<HttpStatusCode>();
        for (var i = 1; i <= 3; i++)
        {
            first.Add((await PostForwardedAsync(proxy, "203.0.113.7", $"a{i}@example.org")).StatusCode);
        }

        var second = await PostForwardedAsync(proxy, "203.0.113.8", "b1@example.org");
        var page = await GetForwardedAsync(proxy, "203.0.113.9", "https");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], first);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        // X-Forwarded-Proto https from the proxy: the CSRF cookie is marked Secure, as on a direct TLS connection.
        Assert.Contains("secure", page.Headers.GetValues("Set-Cookie").Single(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Subscribe_FromAnUnknownSource_IgnoresItsForwardedHeaders()
    {
        // Only 192.0.2.1 is a known proxy: the loopback test client is an ordinary client whose headers are lies.
        await using var site = await StartAsync(
            ("NewsBot:Subscriptions:RateLimit", "2"), ("NewsBot:Subscriptions:RateLimitWindow", "01:00:00"), ("NewsBot:Web:KnownProxies:0", "192.0.2.1"));
        using var client = site.Stranger();

        var answers = new List<HttpStatusCode>();
        for (var i = 1; i <= 3; i++)
        {
            answers.Add((await PostForwardedAsync(client, $"203.0.113.{i}", $"c{i}@example.org")).StatusCode);
        }

        var page = await GetForwardedAsync(client, "203.0.113.9", "https");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], answers);
        Assert.DoesNotContain("secure", page.Headers.GetValues("Set-Cookie").Single(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task WrongKnownProxy_StopsTheStart_NamingTheKey()
    {
        using var host = TestHost.Create(("NewsBot:Web:KnownProxies:0", "127.0.0.1"), ("NewsBot:Web:KnownProxies:1", "proxy.internal"));
        await using var app = Program.BuildService([.. host.Configuration.Select(s => $"--{s.Key}={s.Value}")]);

        var failures = ServiceHost.ConfigurationFailures((await Record.ExceptionAsync(() => app.PrepareAsync(Ct)))!);

        Assert.Equal(["NewsBot:Web:KnownProxies:1 'proxy.internal' is not an IP address or a network such as 10.0.0.0/24"], failures);
    }

    [Fact]
    public async Task Honeypot_Filled_AnswersAsUsual_AndDoesNothing()
    {
        await using var site = await StartAsync();
        using var bot = site.Stranger();

        var trapped = await bot.PostAsync("/subscribe", Form(("email", "bot@example.org"), ("website", "http://spam.example"), ("cadence", "instant")));
        var person = await bot.PostAsync("/subscribe", Form(("email", "person@example.org"), ("cadence", "instant")));
        await site.WaitForMailAsync("person@example.org");
        await site.WaitForConfirmationJobsAsync(1);

        Assert.Equal(HttpStatusCode.OK, trapped.StatusCode);
        Assert.Equal(
            (await person.Content.ReadAsStringAsync()).Replace("person@", "x@", StringComparison.Ordinal),
            (await trapped.Content.ReadAsStringAsync()).Replace("bot@", "x@", StringComparison.Ordinal));
        Assert.Null(await site.StatusAsync("bot@example.org"));
        Assert.Equal(1, site.CountMails());
    }

    [Fact]
    public async Task Csrf_AFormWithoutItsToken_IsRefused_AndChangesNothing()
    {
        await using var site = await StartAsync();
        var id = await site.AddActiveAsync("prefs@example.org", "sanctions");
        var pendingId = await site.Subscribers.AddAsync(
            new NewSubscriber("pending@example.org", null, [], Cadence.Instant, Status: ChannelStatus.PendingConfirmation), Ct);
        var preferences = "/preferences?t=" + site.Tokens.Create(TokenPurpose.Preferences, id, Channels.Email);
        var confirm = "/confirm?t=" + site.Tokens.Create(TokenPurpose.Confirm, pendingId, Channels.Email);
        await site.Browser.GetStringAsync(preferences);

        // Another site posting with the reader's link token but without the form token (no cookie, no field).
        using var attacker = site.Stranger();
        var forgedSave = await attacker.PostAsync(preferences, Form(("topics", "ukraine"), ("cadence", "weekly")));
        var forgedConfirm = await attacker.PostAsync(confirm, Form());
        // The reader's own browser, but a field that does not match its cookie.
        var wrongField = await site.Browser.PostAsync(preferences, Form(("csrf", site.Tokens.SignCookie("another-cookie-0123456")), ("cadence", "weekly")));
        var ownPageWrongField = await site.Browser.PostAsync("/subscribe", Form(("csrf", "AAAAAAAAAAAAAAAAAAAAAA"), ("email", "csrf@example.org")));
        var after = await site.Subscribers.GetAsync(id, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, forgedSave.StatusCode);
        Assert.Contains("This form has expired or did not come from this site", await forgedSave.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, forgedConfirm.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, wrongField.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, ownPageWrongField.StatusCode);
        Assert.Contains("This form has expired", await ownPageWrongField.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(["sanctions"], after!.Topics);
        Assert.Equal(Cadence.Daily, after.Cadence);
        Assert.Equal(ChannelStatus.PendingConfirmation, await site.StatusAsync("pending@example.org"));
        Assert.Null(await site.StatusAsync("csrf@example.org"));
    }

    [Theory]
    [InlineData("not-an-address", "is not an email address")]
    [InlineData("a@", "is not an email address")]
    [InlineData("two words@example.org", "is not an email address")]
    [InlineData("Name <a@example.org>", "is not an email address")]
    [InlineData("victim@example.org\r\nBcc: many@example.org", "The email field holds a line break")]
    [InlineData("victim@example.org\n", "The email field holds a line break")]
    public async Task Subscribe_BadAddress_Is400_SaysWhy_AndChangesNothing(string email, string expected)
    {
        await using var site = await StartAsync();
        using var blog = site.Stranger();

        var response = await blog.PostAsync("/subscribe", Form(("email", email), ("cadence", "daily")));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, html, StringComparison.Ordinal);
        Assert.Contains("<form method=\"post\"", html, StringComparison.Ordinal);
        Assert.Equal(0, await site.Subscribers.CountAsync(Ct));
    }

    [Theory]
    [InlineData("topics", "astrology", "“astrology” is not one of the topics below")]
    [InlineData("topics", "sanctions\r\nX-Injected: 1", "The topics field holds a line break")]
    [InlineData("cadence", "hourly", "“hourly” is not a choice of how often")]
    [InlineData("cadence", "daily\r\n", "The cadence field holds a line break")]
    public async Task Subscribe_BadChoice_Is400_SaysWhy_AndChangesNothing(string field, string value, string expected)
    {
        await using var site = await StartAsync();
        using var blog = site.Stranger();

        var response = await blog.PostAsync("/subscribe", Form(("email", "choice@example.org"), (field, value)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await site.Subscribers.CountAsync(Ct));
    }

    [Fact]
    public async Task Preferences_BadChoice_Is400_AndSavesNothing()
    {
        await using var site = await StartAsync();
        var id = await site.AddActiveAsync("choosy@example.org", "sanctions");
        var link = "/preferences?t=" + site.Tokens.Create(TokenPurpose.Preferences, id, Channels.Email);
        var page = await site.Browser.GetStringAsync(link);

        var response = await site.Browser.PostAsync(link, Form(("csrf", CsrfField(page)), ("topics", "nuclear"), ("topics", "astrology"), ("cadence", "weekly")));
        var after = await site.Subscribers.GetAsync(id, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Nothing was saved", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(["sanctions"], after!.Topics);
        Assert.Equal(Cadence.Daily, after.Cadence);
    }

    [Fact]
    public async Task Tokens_ForgedExpiredOrForAnotherPurpose_Are400_AndChangeNothing()
    {
        await using var site = await StartAsync();
        var id = await site.Subscribers.AddAsync(
            new NewSubscriber("late@example.org", null, [], Cadence.Instant, Status: ChannelStatus.PendingConfirmation), Ct);
        var activeId = await site.AddActiveAsync("target@example.org");
        var confirm = site.Tokens.Create(TokenPurpose.Confirm, id, Channels.Email);
        // A token from three days ago, signed with this service's own secret: genuine but expired.
        var past = new SubscriptionTokens(site.Service.Services.GetRequiredService<Db>(), site.Service.Services.GetRequiredService<IOptions<StorageOptions>>(), new ManualTime(DateTimeOffset.UtcNow.AddDays(-3)));
        var expired = past.Create(TokenPurpose.Confirm, id, Channels.Email);
        var unsubscribe = site.Tokens.Create(TokenPurpose.Unsubscribe, activeId, Channels.Email);
        var parts = unsubscribe.Split('.');
        var otherSubscriber = string.Join('.', parts[0], id.ToString(System.Globalization.CultureInfo.InvariantCulture), parts[2], parts[3], parts[4]);
        // The MAC's first character: all six of its bits are the MAC's (the last one's are not).
        var flipped = string.Join('.', parts[0], parts[1], parts[2], parts[3], (parts[4][0] == 'A' ? 'B' : 'A') + parts[4][1..]);
        using var client = site.Stranger();

        async Task<(HttpStatusCode, string)> AskAsync(HttpMethod method, string path)
        {
            var request = new HttpRequestMessage(method, path);
            if (method == HttpMethod.Post)
            {
                request.Content = Form(("List-Unsubscribe", "One-Click"));
            }

            var response = await client.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        var cases = new (HttpMethod Method, string Path, string Expected)[]
        {
            (HttpMethod.Get, "/confirm?t=" + expired, "This link has expired"),
            (HttpMethod.Post, "/confirm?t=" + expired, "This link has expired"),
            (HttpMethod.Post, "/unsubscribe?t=" + flipped, "This link is not valid"),
            (HttpMethod.Post, "/unsubscribe?t=" + otherSubscriber, "This link is not valid"),
            (HttpMethod.Get, "/preferences?t=" + unsubscribe, "This link is for something else"),
            (HttpMethod.Post, "/confirm?t=" + unsubscribe, "This link is for something else"),
            (HttpMethod.Post, "/unsubscribe?t=" + confirm, "This link is for something else"),
            (HttpMethod.Post, "/unsubscribe?t=" + unsubscribe[..^5], "This link is incomplete"),
            (HttpMethod.Get, "/unsubscribe", "This link is incomplete"),
            (HttpMethod.Get, "/preferences?t=%0d%0aSet-Cookie:x=1", "This link is incomplete"),
        };
        foreach (var (method, path, expected) in cases)
        {
            var (status, html) = await AskAsync(method, path);
            Assert.True(status == HttpStatusCode.BadRequest, $"{method} {path}: {status}");
            Assert.True(html.Contains(expected, StringComparison.Ordinal), $"{method} {path}: expected '{expected}' in\n{html}");
        }

        Assert.Equal(TokenProblem.None, past.Verify(expired, TokenPurpose.Confirm, out var read));
        Assert.Contains($"It worked until {NewsBot.Templates.TemplateRenderer.FormatTime(read!.Expires!.Value)}.",
            (await AskAsync(HttpMethod.Get, "/confirm?t=" + expired)).Item2, StringComparison.Ordinal);
        Assert.Equal(ChannelStatus.PendingConfirmation, await site.StatusAsync("late@example.org"));
        Assert.Equal(ChannelStatus.Active, await site.StatusAsync("target@example.org"));
    }

    [Fact]
    public async Task Confirm_AfterUnsubscribing_OrOfADeletedSubscriber_SaysSo_AndChangesNothing()
    {
        await using var site = await StartAsync();
        var id = await site.Subscribers.AddAsync(
            new NewSubscriber("gone@example.org", null, [], Cadence.Instant, Status: ChannelStatus.Unsubscribed), Ct);
        var link = "/confirm?t=" + site.Tokens.Create(TokenPurpose.Confirm, id, Channels.Email);
        var missing = "/confirm?t=" + site.Tokens.Create(TokenPurpose.Confirm, id + 1000, Channels.Email);

        var shown = await site.Browser.GetAsync(link);
        var missingShown = await site.Browser.GetAsync(missing);

        Assert.Equal(HttpStatusCode.BadRequest, shown.StatusCode);
        Assert.Contains("This subscription has ended", await shown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, missingShown.StatusCode);
        Assert.Contains("This subscription no longer exists", await missingShown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(ChannelStatus.Unsubscribed, await site.StatusAsync("gone@example.org"));
    }

    [Fact]
    public async Task Resubscribing_AfterUnsubscribe_NeedsANewConfirmation()
    {
        await using var site = await StartAsync();
        await site.Subscribers.AddAsync(new NewSubscriber("back@example.org", null, ["sanctions"], Cadence.Daily, Status: ChannelStatus.Unsubscribed), Ct);

        var response = await site.SubscribeAsync("back@example.org", "weekly", "nuclear");
        var mail = await site.WaitForMailAsync("back@example.org");
        var pending = await site.Subscribers.FindByAddressAsync(Channels.Email, "back@example.org", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Confirm your subscription to NewsBot", mail.Subject);
        Assert.Equal(ChannelStatus.PendingConfirmation, pending!.Channels.Single().Status);
        Assert.Equal(["nuclear"], pending.Topics);
        Assert.Equal(Cadence.Weekly, pending.Cadence);
    }

    [Fact]
    public async Task Subscribe_ToASuppressedAddress_SendsNothing()
    {
        await using var site = await StartAsync();
        await site.Subscribers.SuppressAsync(Channels.Email, "bounced@example.org", "hard bounce", Ct);
        using var blog = site.Stranger();

        var suppressed = await blog.PostAsync("/subscribe", Form(("email", "bounced@example.org")));
        await blog.PostAsync("/subscribe", Form(("email", "fine@example.org")));
        await site.WaitForConfirmationJobsAsync(2);

        Assert.Equal(HttpStatusCode.OK, suppressed.StatusCode);
        Assert.Null(await site.StatusAsync("bounced@example.org"));
        Assert.Equal(1, site.CountMails());
    }

    [Fact]
    public async Task WrongRateLimitSettings_StopTheStart_NamingTheKeys()
    {
        using var host = TestHost.Create(("NewsBot:Subscriptions:RateLimit", "0"), ("NewsBot:Subscriptions:RateLimitWindow", "-00:01:00"));
        await using var app = Program.BuildService([.. host.Configuration.Select(s => $"--{s.Key}={s.Value}")]);

        var failures = ServiceHost.ConfigurationFailures((await Record.ExceptionAsync(() => app.PrepareAsync(Ct)))!);

        Assert.Contains("NewsBot:Subscriptions:RateLimit '0' must be at least 1", failures);
        Assert.Contains("NewsBot:Subscriptions:RateLimitWindow '-00:01:00' must be a positive time span such as 00:10:00", failures);
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    public void RateLimitPartition_IsTheIPv4Address_OrTheIPv6Slash64(string address, string expected)
    {
        Assert.Equal(expected, SubscriptionPages.ClientKey(IPAddress.Parse(address)));
    }

    private static async Task<HttpResponseMessage> PostForwardedAsync(HttpClient client, string forwardedFor, string email)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/subscribe") { Content = Form(("email", email)) };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return await client.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> GetForwardedAsync(HttpClient client, string forwardedFor, string forwardedProto)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/subscribe");
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        request.Headers.Add("X-Forwarded-Proto", forwardedProto);
        return await client.SendAsync(request);
    }

    private static async Task<int> CountRecipientsAsync(SubscriptionSite site)
    {
        var count = 0;
        await foreach (var _ in site.Subscribers.StreamRecipientsAsync(new RecipientFilter([Channels.Email], null, null), 100, Ct))
        {
            count++;
        }

        return count;
    }
}
