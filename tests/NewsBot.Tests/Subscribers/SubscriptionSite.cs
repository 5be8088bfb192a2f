using System.Net;
using System.Text.RegularExpressions;

using Hangfire;

using Microsoft.Extensions.Options;

using MimeKit;

using NewsBot.Storage;
using NewsBot.Subscribers;
using NewsBot.Tests.Admin;

namespace NewsBot.Tests.Subscribers;

/// <summary>The service over HTTP as a reader's browser sees it: forms, cookies, and the mails in the outbox.</summary>
public sealed partial class SubscriptionSite : IAsyncDisposable
{
    private SubscriptionSite(ServiceUnderTest service) => Service = service;

    public ServiceUnderTest Service { get; }

    /// <summary>A browser: keeps cookies (the CSRF cookie among them).</summary>
    public HttpClient Browser => Service.Http;

    public SubscriberStore Subscribers => Service.Services.GetRequiredService<SubscriberStore>();

    public SubscriptionTokens Tokens => Service.Services.GetRequiredService<SubscriptionTokens>();

    public string OutboxDirectory => Path.Combine(Service.Services.GetRequiredService<IOptions<StorageOptions>>().Value.DataDirectory, "outbox");

    public static async Task<SubscriptionSite> StartAsync(params (string Key, string? Value)[] settings) =>
        new(await ServiceUnderTest.StartAsync([("NewsBot:Templates:PublicBaseUrl", "https://news.example/"), .. settings]));

    /// <summary>A client without cookies, like a form embedded in another site or a mail provider's one-click POST.</summary>
    public HttpClient Stranger() => new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = Browser.BaseAddress };

    public static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    public static string CsrfField(string html) => CsrfPattern().Match(html) is { Success: true } m
        ? WebUtility.HtmlDecode(m.Groups[1].Value)
        : throw new InvalidOperationException("the page has no csrf field:\n" + html);

    /// <summary>Subscribes through the site's own form, as a person does.</summary>
    public async Task<HttpResponseMessage> SubscribeAsync(string email, string cadence, params string[] topics)
    {
        var page = await Browser.GetStringAsync("/subscribe");
        return await Browser.PostAsync("/subscribe", Form([("csrf", CsrfField(page)), ("email", email), ("cadence", cadence), .. topics.Select(t => ("topics", t))]));
    }

    /// <summary>Waits for the confirmation mail to <paramref name="to"/> (sent by a background job) and parses it.</summary>
    public async Task<MimeMessage> WaitForMailAsync(string to)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (Directory.Exists(OutboxDirectory))
            {
                foreach (var file in Directory.GetFiles(OutboxDirectory, "confirm_*.eml"))
                {
                    var message = await MimeMessage.LoadAsync(file);
                    if (message.To.Mailboxes.Any(m => m.Address == to))
                    {
                        return message;
                    }
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"no confirmation mail to {to} reached {OutboxDirectory} within 30 s; jobs: {Service.DescribeJobs()}");
    }

    /// <summary>Waits until <paramref name="count"/> confirmation jobs have finished (whether they sent a mail or not).</summary>
    public async Task WaitForConfirmationJobsAsync(int count)
    {
        var monitoring = Service.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        for (var attempt = 0; attempt < 300; attempt++)
        {
            var done = monitoring.SucceededJobs(0, 1000).Count(j => j.Value.Job?.Type == typeof(ConfirmationJob));
            if (done >= count)
            {
                Assert.Equal(count, done);
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{count} confirmation jobs did not finish within 30 s");
    }

    public int CountMails() => Directory.Exists(OutboxDirectory) ? Directory.GetFiles(OutboxDirectory, "*.eml").Length : 0;

    /// <summary>The link to <paramref name="path"/> in the mail's text part, made relative to this service (the mail has the public base URL).</summary>
    public static string LinkIn(MimeMessage message, string path)
    {
        var match = Regex.Match(message.TextBody ?? "", $@"https://news\.example{Regex.Escape(path)}\?t=[A-Za-z0-9._-]+");
        Assert.True(match.Success, $"no {path} link in:\n{message.TextBody}");
        Assert.Contains(WebUtility.HtmlEncode(match.Value), message.HtmlBody, StringComparison.Ordinal);
        return new Uri(match.Value).PathAndQuery;
    }

    /// <summary>The first form action of a page, resolved against <paramref name="page"/>.</summary>
    public static string FormAction(string html, string page, int index = 0) =>
        new Uri(new Uri("http://site" + page), WebUtility.HtmlDecode(ActionPattern().Matches(html)[index].Groups[1].Value)).PathAndQuery;

    public async Task<ChannelStatus?> StatusAsync(string email) =>
        (await Subscribers.FindByAddressAsync(Channels.Email, email, CancellationToken.None))?.Channels.Single(c => c.Channel == Channels.Email).Status;

    public async Task<long> AddActiveAsync(string email, params string[] topics) =>
        await Subscribers.AddAsync(new NewSubscriber(email, null, topics, Cadence.Daily), CancellationToken.None);

    public async ValueTask DisposeAsync() => await Service.DisposeAsync();

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]*)\"")]
    private static partial Regex CsrfPattern();

    [GeneratedRegex("<form method=\"post\" action=\"([^\"]*)\"")]
    private static partial Regex ActionPattern();
}
