using Hangfire;

using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;

using Microsoft.Extensions.Options;

namespace NewsBot.Email;

/// <summary>What one poll of the bounce mailbox did.</summary>
/// <param name="Read">Unseen messages read.</param>
/// <param name="Repeated">Messages whose report was processed before (a run cut off before flagging them).</param>
/// <param name="NotReports">Messages that are neither a DSN nor an ARF report: flagged and left alone.</param>
/// <param name="Suppressed">Addresses suppressed by this run.</param>
public sealed record BouncePoll(int Read, int Repeated, int NotReports, int Hard, int Soft, int Complaints, int Suppressed);

/// <summary>
/// The <c>bounce-mailbox</c> recurring job: reads the unseen messages of the bounce folder over IMAP, processes each
/// report, then flags it \Seen (or moves it to <see cref="BounceOptions.ProcessedFolder"/>). A message is flagged only
/// after its report is recorded, and a recorded report is never counted again, so a run cut off anywhere is
/// repaired by the next.
/// </summary>
public sealed class BounceMailboxJob(BounceProcessor processor, IOptions<BounceOptions> options, ILogger<BounceMailboxJob> logger)
{
    public const string JobId = "bounce-mailbox";

    // The schedule is the retry: a mail server that is down now is asked again at the next occurrence.
    [AutomaticRetry(Attempts = 0, LogEvents = false)]
    [DisableConcurrentExecution(timeoutInSeconds: 600)]
    [JobDisplayName(JobId)]
    public Task PollJobAsync(CancellationToken ct) => PollBounceMailboxAsync(ct);

    public async Task<BouncePoll> PollBounceMailboxAsync(CancellationToken ct)
    {
        var o = options.Value;
        if (!o.Enabled)
        {
            throw new InvalidOperationException($"The bounce mailbox is off: set {BounceOptions.Section}:Enabled and its IMAP settings before polling it.");
        }

        // Enabled: the validator has checked Host, Username and Password at start.
        using var client = new ImapClient { Timeout = (int)o.Timeout.TotalMilliseconds };
        await client.ConnectAsync(o.Host!, o.Port, o.SocketOptions, ct);
        await client.AuthenticateAsync(o.Username!, o.Password!, ct);
        var folder = await client.GetFolderAsync(o.Folder, ct);
        await folder.OpenAsync(FolderAccess.ReadWrite, ct);
        var processed = o.ProcessedFolder is null ? null : await client.GetFolderAsync(o.ProcessedFolder, ct);

        // UIDs ascend in arrival order (RFC 9051 §2.3.1.1): the oldest reports first, the newest wait when capped.
        var unseen = (await folder.SearchAsync(SearchQuery.NotSeen, ct)).OrderBy(uid => uid.Id).Take(o.MaxMessagesPerRun).ToList();
        int repeated = 0, notReports = 0, hard = 0, soft = 0, complaints = 0, suppressed = 0;
        foreach (var uid in unseen)
        {
            // MailKit fetches BODY.PEEK[] (RFC 9051 §6.4.5), which leaves \Seen unset until the report is recorded.
            var message = await folder.GetMessageAsync(uid, ct);
            var outcome = await processor.ProcessReportAsync(message, ct);
            repeated += outcome.AlreadyRecorded ? 1 : 0;
            notReports += outcome.Type == ReportType.None ? 1 : 0;
            hard += outcome.Bounces.Count(b => b.Kind == BounceKind.Hard);
            soft += outcome.Bounces.Count(b => b.Kind == BounceKind.Soft);
            complaints += outcome.Bounces.Count(b => b.Kind == BounceKind.Complaint);
            suppressed += outcome.Bounces.Count(b => b.Suppressed is not null);
            await folder.AddFlagsAsync(uid, MessageFlags.Seen, silent: true, ct);
            if (processed is not null)
            {
                await folder.MoveToAsync(uid, processed, ct);
            }
        }

        await client.DisconnectAsync(quit: true, ct);
        var poll = new BouncePoll(unseen.Count, repeated, notReports, hard, soft, complaints, suppressed);
        if (poll.Read > 0)
        {
            logger.LogInformation(
                "Bounce mailbox {Folder}: read {Read} ({Repeated} seen before, {NotReports} not reports): {Hard} hard, {Soft} soft, {Complaints} complaints; {Suppressed} suppressed",
                o.Folder, poll.Read, poll.Repeated, poll.NotReports, poll.Hard, poll.Soft, poll.Complaints, poll.Suppressed);
        }

        return poll;
    }
}
