using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;

using Hangfire;

using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

using NewsBot.Templates;
using NewsBot.Topics;

namespace NewsBot.Subscribers;

/// <summary>
/// The public pages of an email subscription: <c>/subscribe</c>, <c>/confirm</c>, <c>/preferences</c> and
/// <c>/unsubscribe</c>. They work without JavaScript and without sign-in: the signed token in each link
/// (<see cref="SubscriptionTokens"/>) is the only credential.
/// <para>
/// CSRF: the preferences and confirm forms carry a signed double-submit token bound to a SameSite=Lax cookie
/// (OWASP CSRF cheat sheet), besides the link token an attacker cannot know. The subscribe form is meant to be
/// embedded in other sites, so a cross-site post without a token is accepted; it can only ever cause a
/// confirmation mail, and double opt-in is what protects the address owner (with the rate limit and the
/// honeypot against volume). A subscribe post that does carry a token must carry a valid one.
/// <c>POST /unsubscribe</c> takes no CSRF token and no cookie: RFC 8058 §3.1 one-click posts come from mail
/// providers, and the unsubscribe link token is the proof.
/// </para>
/// </summary>
public static class SubscriptionPages
{
    public const string RateLimitPolicy = "subscribe";

    private const string CsrfCookie = "newsbot_csrf";

    // Every page holds a link token or a form token: never cached, never sent on as a Referer, never framed.
    private const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    // Every status but unsubscribed: a pending, bounced or blocked channel records the reader's wish too.
    private static readonly ChannelStatus[] Unsubscribable =
        [ChannelStatus.Active, ChannelStatus.PendingConfirmation, ChannelStatus.Bounced, ChannelStatus.Blocked];

    public static IHostApplicationBuilder AddSubscriptionPages(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SubscriptionOptions>().BindConfiguration(SubscriptionOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SubscriptionOptions>, SubscriptionOptionsValidator>();
        builder.Services.AddTransient<ConfirmationJob>();
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (context, ct) =>
            {
                var http = context.HttpContext;
                var window = http.RequestServices.GetRequiredService<IOptions<SubscriptionOptions>>().Value.RateLimitWindow;
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(window.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await WriteMessageAsync(http, StatusCodes.Status429TooManyRequests, new MessagePage("rate-limited", null, null));
            };
            limiter.AddPolicy(RateLimitPolicy, http =>
            {
                var options = http.RequestServices.GetRequiredService<IOptions<SubscriptionOptions>>().Value;
                return RateLimitPartition.GetFixedWindowLimiter(ClientKey(http.Connection.RemoteIpAddress), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.RateLimit,
                    Window = options.RateLimitWindow,
                    QueueLimit = 0,
                });
            });
        });
        return builder;
    }

    public static WebApplication MapSubscriptionPages(this WebApplication app)
    {
        app.UseRateLimiter();
        app.MapGet("/subscribe", ShowSubscribe);
        app.MapPost("/subscribe", SubscribeAsync).RequireRateLimiting(RateLimitPolicy);
        // HEAD too: link checkers and mail scanners probe with it, and it must answer like GET (and change nothing).
        string[] show = [HttpMethods.Get, HttpMethods.Head];
        app.MapMethods("/confirm", show, ShowConfirmAsync);
        app.MapPost("/confirm", ConfirmAsync);
        app.MapMethods("/preferences", show, ShowPreferencesAsync);
        app.MapPost("/preferences", SavePreferencesAsync);
        app.MapMethods("/unsubscribe", show, ShowUnsubscribeAsync);
        app.MapPost("/unsubscribe", UnsubscribeAsync);
        return app;
    }

    /// <summary>
    /// The rate-limit partition of a client: its IPv4 address, or the /64 of an IPv6 one (one host usually holds
    /// a whole /64, RFC 4291 §2.5.4). Behind a reverse proxy this is the proxy unless forwarded headers are configured.
    /// </summary>
    public static string ClientKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    private static IResult ShowSubscribe(HttpContext http, TemplateRenderer renderer, TopicMatcher topics, SubscriptionTokens tokens) =>
        Page(http, renderer, StatusCodes.Status200OK, PageTemplates.Subscribe, new SubscribePage(
            "subscribe", IssueCsrf(http, tokens), "", [.. topics.Names.Select(t => new TopicChoice(t, false))], "instant", null, null));

    private static async Task<IResult> SubscribeAsync(
        HttpContext http, TemplateRenderer renderer, TopicMatcher topicMatcher, SubscriptionTokens tokens, IBackgroundJobClient jobs)
    {
        if (!http.Request.HasFormContentType)
        {
            return Message(http, renderer, StatusCodes.Status400BadRequest, "not-a-form", null, null);
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var email = form["email"].ToString();
        var chosen = form["topics"].Select(t => t ?? "").ToList();
        var cadence = form["cadence"].ToString();
        SubscribePage Again(string error, string? detail) => new(
            "subscribe", IssueCsrf(http, tokens), email,
            [.. topicMatcher.Names.Select(t => new TopicChoice(t, chosen.Contains(t)))], cadence, error, detail);

        // A bot fills every field: it gets the answer a person gets, and nothing happens.
        if (!string.IsNullOrEmpty(form["website"]))
        {
            return Message(http, renderer, StatusCodes.Status200OK, "check-inbox", email.Trim().ToLowerInvariant(), null);
        }

        if ((form.ContainsKey("csrf") || http.Request.Cookies.ContainsKey(CsrfCookie)) && !CheckCsrf(http, form, tokens))
        {
            return Page(http, renderer, StatusCodes.Status400BadRequest, PageTemplates.Subscribe, Again("form-expired", null));
        }

        if (FindLineBreak(("email", [email]), ("cadence", [cadence]), ("topics", chosen)) is { } field)
        {
            return Page(http, renderer, StatusCodes.Status400BadRequest, PageTemplates.Subscribe, Again("line-break", field));
        }

        string address;
        try
        {
            address = SubscriberStore.NormalizeAddress(Channels.Email, email);
        }
        catch (SubscriberException)
        {
            return Page(http, renderer, StatusCodes.Status400BadRequest, PageTemplates.Subscribe, Again("invalid-email", email));
        }

        if (CheckChoices(topicMatcher, chosen, ref cadence) is { } problem)
        {
            return Page(http, renderer, StatusCodes.Status400BadRequest, PageTemplates.Subscribe, Again(problem.Error, problem.Detail));
        }

        var requestId = Guid.NewGuid().ToString("N");
        var topicList = chosen.Distinct().ToArray();
        jobs.Enqueue<ConfirmationJob>(job => job.SendAsync(requestId, address, topicList, cadence, CancellationToken.None));
        return Message(http, renderer, StatusCodes.Status200OK, "check-inbox", address, null);
    }

    private static async Task<IResult> ShowConfirmAsync(
        HttpContext http, string? t, TemplateRenderer renderer, SubscriptionTokens tokens, SubscriberStore subscribers)
    {
        var (token, subscriber, refusal) = await OpenAsync(http, renderer, tokens, subscribers, t, TokenPurpose.Confirm);
        if (refusal is not null)
        {
            return refusal;
        }

        var channel = subscriber!.Channels.First(c => c.Channel == token!.Channel);
        return channel.Status switch
        {
            ChannelStatus.PendingConfirmation => Page(http, renderer, StatusCodes.Status200OK, PageTemplates.Confirm, new ConfirmPage(
                "confirm?t=" + t, IssueCsrf(http, tokens), channel.Address, subscriber.Topics, SubscriberStore.FormatCadence(subscriber.Cadence))),
            ChannelStatus.Active => Message(http, renderer, StatusCodes.Status200OK, "already-confirmed", null, PreferencesUrl(tokens, token!)),
            _ => Message(http, renderer, StatusCodes.Status400BadRequest, "subscription-ended", null, null),
        };
    }

    private static async Task<IResult> ConfirmAsync(
        HttpContext http, string? t, TemplateRenderer renderer, SubscriptionTokens tokens, SubscriberStore subscribers)
    {
        var (token, subscriber, refusal) = await OpenAsync(http, renderer, tokens, subscribers, t, TokenPurpose.Confirm);
        if (refusal is not null)
        {
            return refusal;
        }

        if (!http.Request.HasFormContentType || !CheckCsrf(http, await http.Request.ReadFormAsync(http.RequestAborted), tokens))
        {
            return Message(http, renderer, StatusCodes.Status400BadRequest, "form-expired", null, null);
        }

        var address = subscriber!.Channels.First(c => c.Channel == token!.Channel).Address;
        if (await subscribers.ChangeChannelStatusAsync(token!.SubscriberId, token.Channel, [ChannelStatus.PendingConfirmation], ChannelStatus.Active, http.RequestAborted))
        {
            return Message(http, renderer, StatusCodes.Status200OK, "confirmed", address, PreferencesUrl(tokens, token));
        }

        // Replayed, or the subscription changed since the mail went out: say which, change nothing.
        var now = await subscribers.GetAsync(token.SubscriberId, http.RequestAborted);
        var status = now?.Channels.FirstOrDefault(c => c.Channel == token.Channel)?.Status;
        return status switch
        {
            null => Message(http, renderer, StatusCodes.Status400BadRequest, "subscription-missing", null, null),
            ChannelStatus.Active => Message(http, renderer, StatusCodes.Status400BadRequest, "already-confirmed", null, PreferencesUrl(tokens, token)),
            _ => Message(http, renderer, StatusCodes.Status400BadRequest, "subscription-ended", null, null),
        };
    }

    private static async Task<IResult> ShowPreferencesAsync(
        HttpContext http, string? t, TemplateRenderer renderer, TopicMatcher topics, SubscriptionTokens tokens, SubscriberStore subscribers)
    {
        var (token, subscriber, refusal) = await OpenAsync(http, renderer, tokens, subscribers, t, TokenPurpose.Preferences);
        return refusal ?? Page(http, renderer, StatusCodes.Status200OK, PageTemplates.Preferences, PreferencesFor(
            http, tokens, topics, t!, token!, subscriber!, subscriber!.Topics, SubscriberStore.FormatCadence(subscriber.Cadence), saved: false));
    }

    private static async Task<IResult> SavePreferencesAsync(
        HttpContext http, string? t, TemplateRenderer renderer, TopicMatcher topicMatcher, SubscriptionTokens tokens, SubscriberStore subscribers)
    {
        var (token, subscriber, refusal) = await OpenAsync(http, renderer, tokens, subscribers, t, TokenPurpose.Preferences);
        if (refusal is not null)
        {
            return refusal;
        }

        if (!http.Request.HasFormContentType)
        {
            return Message(http, renderer, StatusCodes.Status400BadRequest, "not-a-form", null, null);
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        if (!CheckCsrf(http, form, tokens))
        {
            return Message(http, renderer, StatusCodes.Status400BadRequest, "form-expired", null, null);
        }

        var chosen = form["topics"].Select(v => v ?? "").ToList();
        var cadence = form["cadence"].ToString();
        var problem = FindLineBreak(("cadence", [cadence]), ("topics", chosen)) is { } field
            ? ((string Error, string Detail)?)("line-break", field)
            : CheckChoices(topicMatcher, chosen, ref cadence);
        if (problem is { } p)
        {
            return Page(http, renderer, StatusCodes.Status400BadRequest, PageTemplates.Preferences,
                PreferencesFor(http, tokens, topicMatcher, t!, token!, subscriber!, chosen, cadence, saved: false) with { Error = p.Error, Detail = p.Detail });
        }

        var ct = http.RequestAborted;
        await subscribers.SetTopicsAsync(subscriber!.Id, [.. chosen.Distinct()], ct);
        await subscribers.SetCadenceAsync(subscriber.Id, SubscriberStore.ParseCadence(cadence), ct);
        // Saving from the link in one of our mails is consent enough to undo an unsubscribe; a pending channel
        // still needs its confirmation link, and a bounced one stays off.
        await subscribers.ChangeChannelStatusAsync(subscriber.Id, token!.Channel, [ChannelStatus.Unsubscribed], ChannelStatus.Active, ct);
        var saved = await subscribers.GetAsync(subscriber.Id, ct) ?? subscriber;
        return Page(http, renderer, StatusCodes.Status200OK, PageTemplates.Preferences,
            PreferencesFor(http, tokens, topicMatcher, t!, token, saved, saved.Topics, SubscriberStore.FormatCadence(saved.Cadence), saved: true));
    }

    private static async Task<IResult> ShowUnsubscribeAsync(
        HttpContext http, string? t, TemplateRenderer renderer, SubscriptionTokens tokens, SubscriberStore subscribers)
    {
        // RFC 8058 §1: mail scanners and link previews fetch every link, so a GET only shows the button.
        var (token, subscriber, refusal) = await OpenAsync(http, renderer, tokens, subscribers, t, TokenPurpose.Unsubscribe);
        if (refusal is not null)
        {
            return refusal;
        }

        var channel = subscriber!.Channels.First(c => c.Channel == token!.Channel);
        return channel.Status == ChannelStatus.Unsubscribed
            ? Message(http, renderer, StatusCodes.Status200OK, "already-unsubscribed", channel.Address, null)
            : Page(http, renderer, StatusCodes.Status200OK, PageTemplates.Unsubscribe, new UnsubscribePage("unsubscribe?t=" + t, channel.Address));
    }

    /// <summary>
    /// RFC 8058 §3.1: a POST whose body is <c>List-Unsubscribe=One-Click</c> (as application/x-www-form-urlencoded
    /// or multipart/form-data) to the List-Unsubscribe URI unsubscribes at once, with no cookie and no further
    /// page; the button of the unsubscribe page posts the same body.
    /// </summary>
    private static async Task<IResult> UnsubscribeAsync(
        HttpContext http, string? t, TemplateRenderer renderer, SubscriptionTokens tokens, SubscriberStore subscribers)
    {
        var (token, subscriber, refusal) = await OpenAsync(http, renderer, tokens, subscribers, t, TokenPurpose.Unsubscribe);
        if (refusal is not null)
        {
            return refusal;
        }

        if (!http.Request.HasFormContentType)
        {
            return Message(http, renderer, StatusCodes.Status400BadRequest, "not-a-form", null, null);
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var oneClick = form["List-Unsubscribe"].ToString();
        if (oneClick != "One-Click")
        {
            var detail = form.ContainsKey("List-Unsubscribe") ? "List-Unsubscribe=" + oneClick : null;
            return Message(http, renderer, StatusCodes.Status400BadRequest, "one-click-body", detail is { Length: > 100 } ? detail[..100] : detail, null);
        }

        var address = subscriber!.Channels.First(c => c.Channel == token!.Channel).Address;
        var changed = await subscribers.ChangeChannelStatusAsync(token!.SubscriberId, token.Channel, Unsubscribable, ChannelStatus.Unsubscribed, http.RequestAborted);
        return Message(http, renderer, StatusCodes.Status200OK, changed ? "unsubscribed" : "already-unsubscribed", address, null);
    }

    /// <summary>Verifies the link token and loads its subscriber; on failure, the 400 page that says why.</summary>
    private static async Task<(SubscriptionToken? Token, Subscriber? Subscriber, IResult? Refusal)> OpenAsync(
        HttpContext http, TemplateRenderer renderer, SubscriptionTokens tokens, SubscriberStore subscribers, string? t, TokenPurpose purpose)
    {
        var problem = tokens.Verify(t, purpose, out var token);
        if (problem != TokenProblem.None)
        {
            var kind = problem switch
            {
                TokenProblem.Forged => "link-forged",
                TokenProblem.WrongPurpose => "link-wrong-purpose",
                TokenProblem.Expired => "link-expired",
                _ => "link-malformed",
            };
            // An expired token's signature held, so its expiry is genuine and may be shown.
            var detail = problem == TokenProblem.Expired ? TemplateRenderer.FormatTime(token!.Expires!.Value) : null;
            return (null, null, Message(http, renderer, StatusCodes.Status400BadRequest, kind, detail, null));
        }

        var subscriber = await subscribers.GetAsync(token!.SubscriberId, http.RequestAborted);
        if (subscriber is null || !subscriber.Channels.Any(c => c.Channel == token.Channel))
        {
            return (null, null, Message(http, renderer, StatusCodes.Status400BadRequest, "subscription-missing", null, null));
        }

        return (token, subscriber, null);
    }

    private static PreferencesPage PreferencesFor(
        HttpContext http, SubscriptionTokens tokens, TopicMatcher topics, string t, SubscriptionToken token, Subscriber subscriber,
        IReadOnlyList<string> chosen, string cadence, bool saved)
    {
        var channel = subscriber.Channels.First(c => c.Channel == token.Channel);
        return new PreferencesPage(
            "preferences?t=" + t,
            IssueCsrf(http, tokens),
            channel.Address,
            SubscriberStore.FormatStatus(channel.Status),
            [.. topics.Names.Select(name => new TopicChoice(name, chosen.Contains(name)))],
            cadence,
            "unsubscribe?t=" + tokens.Create(TokenPurpose.Unsubscribe, subscriber.Id, token.Channel),
            saved);
    }

    /// <summary>Relative, like every link and form action of the pages, so they work under whatever prefix a proxy serves them.</summary>
    private static string PreferencesUrl(SubscriptionTokens tokens, SubscriptionToken token) =>
        "preferences?t=" + tokens.Create(TokenPurpose.Preferences, token.SubscriberId, token.Channel);

    /// <summary>Topics must be configured ones; the cadence one of instant, daily, weekly (empty: instant).</summary>
    private static (string Error, string Detail)? CheckChoices(TopicMatcher topics, List<string> chosen, ref string cadence)
    {
        if (chosen.FirstOrDefault(t => !topics.Names.Contains(t)) is { } unknown)
        {
            return ("unknown-topic", unknown);
        }

        cadence = cadence.Trim().Length == 0 ? "instant" : cadence.Trim();
        return cadence is "instant" or "daily" or "weekly" ? null : ("unknown-cadence", cadence);
    }

    /// <summary>
    /// The name of the first field holding a control character (CR and LF above all): a value that reaches a mail
    /// header must never add a header line (RFC 5322 §2.2), so such input is refused, not cleaned.
    /// </summary>
    private static string? FindLineBreak(params (string Name, IEnumerable<string> Values)[] fields) =>
        fields.FirstOrDefault(f => f.Values.Any(v => v.Any(char.IsControl))).Name;

    private static string IssueCsrf(HttpContext http, SubscriptionTokens tokens)
    {
        var cookie = http.Request.Cookies[CsrfCookie];
        if (cookie is not { Length: 22 })
        {
            cookie = SubscriptionTokens.CreateCookie();
            // Lax: sent when the reader arrives from a link in a mail, never with another site's POST.
            http.Response.Cookies.Append(CsrfCookie, cookie, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Lax,
                Secure = http.Request.IsHttps,
                IsEssential = true,
                Path = "/",
            });
        }

        return tokens.SignCookie(cookie);
    }

    private static bool CheckCsrf(HttpContext http, IFormCollection form, SubscriptionTokens tokens) =>
        tokens.VerifyCookie(http.Request.Cookies[CsrfCookie], form["csrf"]);

    private static IResult Message(HttpContext http, TemplateRenderer renderer, int status, string kind, string? detail, string? preferencesUrl) =>
        Page(http, renderer, status, PageTemplates.Message, new MessagePage(kind, detail, preferencesUrl));

    private static IResult Page(HttpContext http, TemplateRenderer renderer, int status, string template, object page)
    {
        SetHeaders(http);
        return Results.Content(renderer.RenderPage(template, page), "text/html; charset=utf-8", statusCode: status);
    }

    private static async Task WriteMessageAsync(HttpContext http, int status, MessagePage page)
    {
        SetHeaders(http);
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/html; charset=utf-8";
        await http.Response.WriteAsync(http.RequestServices.GetRequiredService<TemplateRenderer>().RenderPage(PageTemplates.Message, page));
    }

    private static void SetHeaders(HttpContext http)
    {
        var headers = http.Response.Headers;
        headers.CacheControl = "no-store";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
    }

    private sealed class SubscriptionOptionsValidator : IValidateOptions<SubscriptionOptions>
    {
        public ValidateOptionsResult Validate(string? name, SubscriptionOptions options)
        {
            var errors = options.Validate().ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
