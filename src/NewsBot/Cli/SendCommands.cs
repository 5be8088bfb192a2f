using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

using NewsBot.Admin;
using NewsBot.Delivery;
using NewsBot.Posts;
using NewsBot.Subscribers;
using NewsBot.Templates;

namespace NewsBot.Cli;

/// <summary><c>send post|digest|test</c>, <c>sends show</c>, <c>preview post</c>: the admin service from a shell.</summary>
public static class SendCommands
{
    private static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static IEnumerable<Command> Create(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var send = new Command("send", "Send a post or a digest to subscribers (or a test message to one address), with live progress.");
        send.Subcommands.Add(CreateSendPost(services, output, error));
        send.Subcommands.Add(CreateSendDigest(services, output, error));
        send.Subcommands.Add(CreateSendTest(services, output, error));
        var sends = new Command("sends", "Reports of sends.");
        sends.Subcommands.Add(CreateShow(services, output, error));
        var preview = new Command("preview", "Render a message without sending it.");
        preview.Subcommands.Add(CreatePreviewPost(services, output, error));
        return [send, sends, preview];
    }

    private static Option<string[]> ChannelOption() => new("--channel", "-c") { Description = "Only this channel (email, telegram); repeatable.", AllowMultipleArgumentsPerToken = true };

    private static Option<string[]> TopicOption() => new("--topic", "-t") { Description = "Only subscribers of this topic; repeatable.", AllowMultipleArgumentsPerToken = true };

    private static Option<bool> DryRunOption() => new("--dry-run") { Description = "Count the audience and estimate the time; send nothing." };

    private static Command CreateSendPost(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var postId = new Argument<long>("post-id") { Description = "The post's numeric id (see `posts latest`)." };
        var cadence = new Option<string?>("--cadence") { Description = "Only subscribers of this cadence (default: everyone but 'off')." };
        var (channel, topic, dryRun) = (ChannelOption(), TopicOption(), DryRunOption());
        var command = new Command("post", "Send one post to its subscribers.") { postId, channel, topic, cadence, dryRun };
        command.SetAction((result, ct) => SendAsync(services, output, error,
            new AdminSendRequest("post", result.GetValue(postId), result.GetValue(cadence), result.GetValue(channel), result.GetValue(topic), result.GetValue(dryRun)), ct));
        return command;
    }

    private static Command CreateSendDigest(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var cadence = new Argument<string>("cadence") { Description = "daily or weekly." };
        var since = new Option<DateTimeOffset?>("--since") { Description = "Cover posts published from this date (e.g. 2026-01-01, local time) instead of each subscriber's last digest." };
        var (channel, topic, dryRun) = (ChannelOption(), TopicOption(), DryRunOption());
        var command = new Command("digest", "Send the daily or weekly digest now, to subscribers of that cadence with posts since their last digest.") { cadence, channel, topic, since, dryRun };
        command.SetAction((result, ct) => SendAsync(services, output, error,
            new AdminSendRequest("digest", null, result.GetValue(cadence), result.GetValue(channel), result.GetValue(topic), result.GetValue(dryRun), result.GetValue(since)), ct));
        return command;
    }

    private static Command CreateSendTest(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var email = new Option<string?>("--email") { Description = "Send the test to this address." };
        var telegram = new Option<long?>("--telegram") { Description = "Send the test to this Telegram chat id." };
        var postId = new Option<long?>("--post") { Description = "The post to send (default: the latest)." };
        var command = new Command("test", "Send one post to one address, outside the subscriber list and the ledger, to check how it looks.") { email, telegram, postId };
        command.SetAction((result, ct) => CliApp.RunVerbAsync(error, async () =>
        {
            var (channelName, address) = (result.GetValue(email), result.GetValue(telegram)) switch
            {
                ({ } e, null) => (Channels.Email, e),
                (null, { } t) => (Channels.Telegram, t.ToString(CultureInfo.InvariantCulture)),
                _ => throw new ArgumentException("give exactly one of --email <address> or --telegram <chat id>"),
            };
            var provider = await CliApp.OpenStoreAsync(services, ct);
            var admin = provider.GetRequiredService<AdminService>();
            var sent = await admin.SendTestAsync(channelName, address, result.GetValue(postId), ct);
            await output.WriteLineAsync($"test message '{sent.Subject}' to {channelName} {address}: {sent.Outcome}{(sent.Error is null ? "" : ": " + sent.Error)}");
            return sent.Outcome == ChannelOutcome.Sent ? 0 : 1;
        }));
        return command;
    }

    private static Command CreateShow(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var id = new Argument<long>("send-id");
        var json = new Option<bool>("--json") { Description = "Print JSON." };
        var command = new Command("show", "Counts per state and the errors of one send.") { id, json };
        command.SetAction((result, ct) => CliApp.RunVerbAsync(error, async () =>
        {
            var provider = await CliApp.OpenStoreAsync(services, ct);
            var report = await provider.GetRequiredService<AdminService>().GetReportAsync(result.GetValue(id), ct)
                ?? throw new ArgumentException($"send {result.GetValue(id)} does not exist");
            await output.WriteLineAsync(result.GetValue(json) ? JsonSerializer.Serialize(report, Indented) : DescribeReport(report));
            return 0;
        }));
        return command;
    }

    private static Command CreatePreviewPost(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var postId = new Argument<long>("post-id");
        var channel = new Option<string>("--channel", "-c") { Description = "email-html, email-text or telegram.", DefaultValueFactory = _ => "email-html" };
        var command = new Command("post", "Render a post as a subscriber would get it.") { postId, channel };
        command.SetAction((result, ct) => CliApp.RunVerbAsync(error, async () =>
        {
            var provider = await CliApp.OpenStoreAsync(services, ct);
            var message = await provider.GetRequiredService<AdminService>().PreviewPostAsync(result.GetValue(postId), result.GetValue(channel), ct);
            await output.WriteLineAsync("Subject: " + message.Subject);
            await output.WriteLineAsync();
            await output.WriteLineAsync(message.Personalise(AdminService.PreviewLinks));
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Plans the send, then runs its dispatch jobs in this process (a Hangfire server on the CLI's own in-memory
    /// storage; with PostgreSQL, on the shared queue, where running instances take chunks too) while drawing progress. Rows left behind by an interrupted CLI are finished by the service's
    /// recovery at its next start.
    /// </summary>
    private static Task<int> SendAsync(Func<IServiceProvider> services, TextWriter output, TextWriter error, AdminSendRequest request, CancellationToken ct) =>
        CliApp.RunVerbAsync(error, async () =>
        {
            var provider = await CliApp.OpenStoreAsync(services, ct);
            var host = provider.GetRequiredService<IHost>();
            if (!request.DryRun)
            {
                await host.StartAsync(ct);
            }

            try
            {
                var plan = await provider.GetRequiredService<AdminService>().CreateSendAsync(request, "cli", ct);
                var audience = string.Join(", ", plan.Audience.Where(a => a.Value > 0).Select(a => $"{a.Key} {a.Value:N0}"));
                var total = plan.Audience.Values.Sum();
                if (plan.SendId is not { } sendId)
                {
                    await output.WriteLineAsync($"dry run: would send to {total:N0} ({(total == 0 ? "nobody" : audience)}){Parts(plan, total)}, about {FormatDuration(plan.Eta - DateTimeOffset.UtcNow)}");
                    return 0;
                }

                await output.WriteLineAsync($"send {sendId}: {total:N0} recipient(s) ({(total == 0 ? "nobody" : audience)}){Parts(plan, total)}");
                var counts = await FollowProgressAsync(provider.GetRequiredService<DeliveryStore>(), sendId, plan.Messages, output, ct);
                await output.WriteLineAsync($"send {sendId} done: {Count(counts, DeliveryState.Sent):N0} sent, {Count(counts, DeliveryState.FailedTransient) + Count(counts, DeliveryState.FailedPermanent):N0} failed, {Count(counts, DeliveryState.Skipped):N0} skipped (details: sends show {sendId})");
                return Count(counts, DeliveryState.FailedTransient) + Count(counts, DeliveryState.FailedPermanent) == 0 ? 0 : 1;
            }
            finally
            {
                if (!request.DryRun)
                {
                    await host.StopAsync(CancellationToken.None);
                }
            }
        });

    private static async Task<IReadOnlyDictionary<DeliveryState, int>> FollowProgressAsync(DeliveryStore deliveries, long sendId, int total, TextWriter output, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var lastDraw = TimeSpan.Zero;
        while (true)
        {
            var counts = await deliveries.CountStatesAsync(sendId, ct);
            var remaining = Count(counts, DeliveryState.Pending) + Count(counts, DeliveryState.Sending);
            if (remaining == 0 || clock.Elapsed - lastDraw >= TimeSpan.FromSeconds(1))
            {
                await output.WriteLineAsync(DrawProgress(counts, total, clock.Elapsed));
                lastDraw = clock.Elapsed;
            }

            if (remaining == 0)
            {
                return counts;
            }

            // A paused send claims no rows: waiting for them would never end.
            if (remaining > 0 && (await deliveries.GetSendAsync(sendId, ct))?.PauseReason is { } reason)
            {
                await output.WriteLineAsync(DrawProgress(counts, total, clock.Elapsed));
                await output.WriteLineAsync($"send {sendId} is PAUSED: {reason}");
                return counts;
            }

            await Task.Delay(200, ct);
        }
    }

    /// <summary><c>[#########...........]  4,500/10,000 sent, 0 failed, 5,500 remaining, 1,210/s, ETA 0:05</c></summary>
    public static string DrawProgress(IReadOnlyDictionary<DeliveryState, int> counts, int total, TimeSpan elapsed)
    {
        var sent = Count(counts, DeliveryState.Sent);
        var failed = Count(counts, DeliveryState.FailedTransient) + Count(counts, DeliveryState.FailedPermanent);
        var done = sent + failed + Count(counts, DeliveryState.Skipped);
        var remaining = Math.Max(0, total - done);
        var rate = elapsed.TotalSeconds > 0 ? done / elapsed.TotalSeconds : 0;
        const int width = 30;
        var filled = total == 0 ? width : (int)((long)width * done / total);
        var eta = rate > 0 ? FormatDuration(TimeSpan.FromSeconds(remaining / rate)) : "?";
        return string.Create(CultureInfo.InvariantCulture, $"[{new string('#', filled)}{new string('.', width - filled)}] {sent:N0}/{total:N0} sent, {failed:N0} failed, {remaining:N0} remaining, {rate:N0}/s, ETA {eta}");
    }

    /// <summary>", 4,500 messages" when a Telegram digest goes out in parts, so there are more messages than recipients.</summary>
    private static string Parts(SendPlan plan, int recipients) => plan.Messages > recipients ? $", {plan.Messages:N0} messages" : "";

    private static int Count(IReadOnlyDictionary<DeliveryState, int> counts, DeliveryState state) => counts.GetValueOrDefault(state);

    private static string FormatDuration(TimeSpan duration) =>
        duration <= TimeSpan.Zero ? "0:00" : duration.TotalHours >= 1 ? duration.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : duration.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    private static string DescribeReport(SendReport report)
    {
        var lines = new List<string>
        {
            $"send {report.Id}: {report.Kind}{(report.PostId is { } p ? $" of post {p}" : "")}{(report.Cadence is { } c ? $" ({c})" : "")} to {string.Join(", ", report.Channels)}, by {report.RequestedBy}",
            $"  created {PostJson.FormatDate(report.CreatedAt)}, {(report.FinishedAt is { } f ? "finished " + PostJson.FormatDate(f) : "not finished")}, {report.Total:N0} recipient(s)",
            "  " + string.Join(", ", report.Counts.Where(c => c.Value > 0).Select(c => $"{c.Key} {c.Value:N0}")),
        };
        if (report.PausedAt is { } paused)
        {
            lines.Add($"  PAUSED since {PostJson.FormatDate(paused)}: {report.PauseReason} (resume: POST /api/admin/sends/{report.Id}/retry-failed)");
        }

        if (report.Bounces?.Where(b => b.Value > 0).ToList() is { Count: > 0 } bounced)
        {
            lines.Add($"  bounced afterwards: {string.Join(", ", bounced.Select(b => $"{b.Key} {b.Value:N0}"))} (bounces list --send {report.Id})");
        }

        lines.AddRange(report.Errors.Select(e => $"  {e.State} {e.Channel} {e.Address} after {e.Attempts} attempt(s): {e.Error}"));
        return string.Join(Environment.NewLine, lines);
    }
}
