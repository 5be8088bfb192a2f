using System.CommandLine;
using System.Globalization;

using MailKit;
using MailKit.Net.Imap;

using NewsBot.Email;

namespace NewsBot.Cli;

/// <summary><c>bounces list</c> and <c>bounces poll</c>.</summary>
public static class BounceCommands
{
    public static Command Create(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var bounces = new Command("bounces", "Bounces and complaints read from the bounce mailbox (NewsBot:Email:Bounces).");
        bounces.Subcommands.Add(CreateList(services, output, error));
        bounces.Subcommands.Add(CreatePoll(services, output, error));
        return bounces;
    }

    private static Command CreateList(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var address = new Option<string?>("--address") { Description = "Only the bounces of this email address." };
        var send = new Option<long?>("--send") { Description = "Only the bounces that came back from this send." };
        var limit = new Option<int>("--limit") { Description = "How many, newest first (1-1000).", DefaultValueFactory = _ => 50 };
        var command = new Command("list", "List the newest bounces: when, kind, status, address and whether it was suppressed.") { address, send, limit };
        command.SetAction((result, ct) => CliApp.RunVerbAsync(error, async () =>
        {
            var count = result.GetValue(limit);
            if (count is < 1 or > 1000)
            {
                throw new ArgumentException($"--limit {count} must be between 1 and 1000");
            }

            var store = (await CliApp.OpenStoreAsync(services, ct)).GetRequiredService<BounceStore>();
            var list = await store.ListRecentAsync(count, result.GetValue(address), result.GetValue(send), ct);
            foreach (var b in list)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{b.CreatedAt:yyyy-MM-dd HH:mm}  {BounceStore.KindName(b.Kind),-9}  {b.Status ?? b.Action ?? "-",-12}  {b.Address ?? "(unknown recipient)"}  {(b.Suppressed is null ? "" : "suppressed: " + b.Suppressed)}").TrimEnd());
            }

            if (list.Count == 0)
            {
                await output.WriteLineAsync("no bounces recorded");
            }

            return 0;
        }));
        return command;
    }

    private static Command CreatePoll(Func<IServiceProvider> services, TextWriter output, TextWriter error)
    {
        var command = new Command("poll", "Read the bounce mailbox once now, as the bounce-mailbox job does.");
        command.SetAction((result, ct) => CliApp.RunVerbAsync(error, async () =>
        {
            var job = (await CliApp.OpenStoreAsync(services, ct)).GetRequiredService<BounceMailboxJob>();
            try
            {
                var poll = await job.PollBounceMailboxAsync(ct);
                await output.WriteLineAsync(
                    $"read {poll.Read} ({poll.Repeated} seen before, {poll.NotReports} not reports): {poll.Hard} hard, {poll.Soft} soft, {poll.Complaints} complaints; {poll.Suppressed} suppressed");
                return 0;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or System.Net.Sockets.SocketException or ImapCommandException or ImapProtocolException or MailKit.Security.AuthenticationException or FolderNotFoundException)
            {
                await error.WriteLineAsync("error: " + e.Message);
                return 1;
            }
        }));
        return command;
    }
}
