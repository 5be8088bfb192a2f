using Hangfire;

using Microsoft.Extensions.Options;

using NewsBot.Subscribers;
using NewsBot.Templates;

namespace NewsBot.Delivery;

/// <summary>
/// Sends one chunk of a send's ledger rows. It takes ids, claims the rows it may send (pending or failed-transient),
/// so a retry or a second run of the same chunk never sends a row that is sent. The claim is a lease: renewed every
/// third of <see cref="DeliveryStore.LeaseDuration"/> while the chunk goes out, and a row whose lease is lost, or
/// would end within a third of the duration, is not sent: another instance may have it by then.
/// </summary>
public sealed class DispatchJob(
    DeliveryStore store,
    SubscriberStore subscribers,
    SubscriptionTokens tokens,
    IEnumerable<IChannel> channels,
    IOptions<TemplateOptions> templateOptions,
    TimeProvider time,
    ILogger<DispatchJob> logger)
{
    public const string SuppressedReason = "suppressed";

    public const string HeldError = "held: an earlier part of this message to the same recipient failed transiently; it goes after that part";

    /// <exception cref="DeliveryRetryException">Some rows failed transiently; Hangfire's retry re-claims only those.</exception>
    [AutomaticRetry(Attempts = 3)]
    [JobDisplayName("dispatch send {0}: rows {1}-{2}")]
    public async Task DispatchAsync(long sendId, long firstId, long lastId, CancellationToken ct)
    {
        var send = await store.GetSendAsync(sendId, ct)
            ?? throw new InvalidOperationException($"Send {sendId} is not in the ledger; its dispatch job for rows {firstId}-{lastId} has nothing to do.");
        var rows = await store.ClaimAsync(sendId, firstId, lastId, ct);
        var failed = 0;
        if (rows.Count > 0)
        {
            failed = await SendRowsAsync(send, firstId, lastId, rows, ct);
        }

        if (await store.TryFinishSendAsync(sendId, ct))
        {
            var counts = await store.CountStatesAsync(sendId, ct);
            logger.LogInformation("Send {SendId} finished: {Counts}", sendId, string.Join(", ", counts.Select(c => $"{DeliveryStore.StateName(c.Key)} {c.Value}")));
        }

        if (failed > 0)
        {
            throw new DeliveryRetryException(
                $"{failed} of {rows.Count} deliveries of send {sendId} (rows {firstId}-{lastId}) failed transiently; a retry sends only those.");
        }
    }

    /// <summary>Returns how many rows failed transiently.</summary>
    private async Task<int> SendRowsAsync(SendRecord send, long firstId, long lastId, IReadOnlyList<ClaimedDelivery> rows, CancellationToken ct)
    {
        var lease = new ChunkLease(rows);
        using var stopRenewing = new CancellationTokenSource();
        var renewing = RenewLeaseAsync(send.Id, firstId, lastId, lease, stopRenewing.Token);
        try
        {
            return await SendHeldRowsAsync(send, rows, lease, ct);
        }
        finally
        {
            await stopRenewing.CancelAsync();
            await renewing;
        }
    }

    private async Task<int> SendHeldRowsAsync(SendRecord send, IReadOnlyList<ClaimedDelivery> rows, ChunkLease lease, CancellationToken ct)
    {
        var messages = (await store.GetMessagesAsync(send.Id, ct))
            .ToDictionary(m => (m.Variant, m.Format), m => RenderedMessage.FromStored(m.Subject, m.Body, m.Format));
        var byName = new Dictionary<string, IChannel>(StringComparer.Ordinal);
        foreach (var channel in channels)
        {
            // The last registration wins: a real channel added after the outbox replaces it.
            byName[channel.Name] = channel;
        }

        var suppressed = new HashSet<(string Channel, string Address)>();
        foreach (var group in rows.GroupBy(r => r.Channel))
        {
            var addresses = group.Select(r => r.Address).Distinct().ToList();
            foreach (var address in await subscribers.FindSuppressedAsync(group.Key, addresses, ct))
            {
                suppressed.Add((group.Key, address));
            }
        }

        var baseUrl = templateOptions.Value.PublicBaseUrl.TrimEnd('/');
        var sentTo = new HashSet<long>();
        // A recipient's rows of one send are the parts of one message, in id order: after a part fails transiently
        // the later ones wait for the retry, which claims them all again in order, so no part overtakes another.
        var held = new HashSet<(long SubscriberId, string Channel)>();
        var failed = 0;
        var done = 0;
        var lost = 0;
        try
        {
            foreach (var row in rows)
            {
                // A third of the lease left is the margin for one send and its mark; less, and the row may be
                // released and claimed elsewhere while it goes out.
                if (!lease.Holds(row.Id, time.GetUtcNow() + store.LeaseDuration / 3))
                {
                    done++;
                    lost++;
                    continue;
                }

                if (held.Contains((row.SubscriberId, row.Channel)))
                {
                    await store.MarkFailedAsync(row, permanent: false, HeldError, CancellationToken.None);
                    done++;
                    failed++;
                    continue;
                }

                var result = await SendRowAsync(send, row, byName, messages, suppressed, baseUrl, sentTo, ct);
                if (result?.Outcome == ChannelOutcome.FailedTransient)
                {
                    held.Add((row.SubscriberId, row.Channel));
                }

                done++;
                failed += result?.Outcome == ChannelOutcome.FailedTransient ? 1 : 0;
                if (result?.PauseReason is { } reason)
                {
                    await PauseAsync(send.Id, reason, rows.Skip(done).ToList());
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopped mid-chunk: the rows not yet sent go back to pending now instead of waiting for a restart.
            await store.ReleaseAsync(rows.Skip(done).ToList(), CancellationToken.None);
            throw;
        }
        finally
        {
            if (lost > 0)
            {
                logger.LogWarning("Send {SendId}: {Lost} of {Count} claimed deliveries were not sent here: their lease was lost or about to end; another instance sends them",
                    send.Id, lost, rows.Count);
            }

            // Marked per chunk, as each digest goes out, so a retried chunk marks its subscribers too. The time is
            // the digest's window end, so posts published while it goes out are in the next one.
            if (send.Kind == "digest" && sentTo.Count > 0)
            {
                await subscribers.MarkDigestSentAsync(sentTo, send.CreatedAt, CancellationToken.None);
            }
        }

        return failed;
    }

    /// <summary>
    /// The channel cannot go on: the send pauses (no job claims its rows) and the rows this job still holds go back
    /// to pending, to be sent when an admin retries the send.
    /// </summary>
    private async Task PauseAsync(long sendId, string reason, IReadOnlyList<ClaimedDelivery> unsent)
    {
        var none = CancellationToken.None;
        await store.ReleaseAsync(unsent, none);
        if (await store.PauseSendAsync(sendId, reason, none))
        {
            logger.LogError("Send {SendId} is paused: {Reason}. Its remaining rows wait; `sends show {SendId}` reports it, and retrying the failed rows (admin API retry-failed) resumes it",
                sendId, reason, sendId);
        }
    }

    /// <summary>Sends one row and records the outcome; the channel's result, or null when no channel was asked.</summary>
    private async Task<ChannelResult?> SendRowAsync(SendRecord send, ClaimedDelivery row, Dictionary<string, IChannel> byName,
        Dictionary<(string, MessageFormat), RenderedMessage> messages, HashSet<(string Channel, string Address)> suppressed,
        string baseUrl, HashSet<long> sentTo, CancellationToken ct)
    {
        // Outcomes are recorded even when the job is being stopped: a message that went out must be marked sent.
        var none = CancellationToken.None;
        if (suppressed.Contains((row.Channel, row.Address)))
        {
            await store.MarkSkippedAsync(row, SuppressedReason, none);
            return null;
        }

        if (!byName.TryGetValue(row.Channel, out var channel))
        {
            await store.MarkFailedAsync(row, permanent: true, $"no channel '{row.Channel}' is configured", none);
            return null;
        }

        // A configured channel's readers are nobody's subscriber: its message has no links to fill in. Others get
        // signed, non-expiring links (SubscriptionTokens); the unsubscribe one is also the RFC 8058 one-click target.
        var links = row.Variant == DeliveryPlanner.BroadcastVariant ? null : new SubscriberLinks(
            $"{baseUrl}/preferences?t={tokens.Create(TokenPurpose.Preferences, row.SubscriberId, row.Channel)}",
            $"{baseUrl}/unsubscribe?t={tokens.Create(TokenPurpose.Unsubscribe, row.SubscriberId, row.Channel)}");
        var message = ComposeMessage(row, messages, links);
        if (message is null)
        {
            await store.MarkFailedAsync(row, permanent: true, $"send {send.Id} has no rendered message '{row.Variant}' for {row.Channel}", none);
            return null;
        }

        ChannelResult result;
        try
        {
            result = await channel.SendAsync(message, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            result = new ChannelResult(ChannelOutcome.FailedTransient, $"{e.GetType().Name}: {e.Message}");
        }

        switch (result.Outcome)
        {
            case ChannelOutcome.Sent:
                if (!await store.MarkSentAsync(row, none))
                {
                    logger.LogWarning("Delivery {DeliveryId} of send {SendId} went out after its lease was lost; the instance holding it now may send it again (channels deduplicate on {Key} where they can)",
                        row.Id, send.Id, row.IdempotencyKey);
                }

                sentTo.Add(row.SubscriberId);
                break;
            case ChannelOutcome.FailedPermanent:
                await store.MarkFailedAsync(row, permanent: true, result.Error ?? "failed", none);
                break;
            default:
                await store.MarkFailedAsync(row, permanent: false, result.Error ?? "failed", none);
                logger.LogWarning("Delivery {DeliveryId} of send {SendId} to {Channel} failed (attempt {Attempt}): {Error}",
                    row.Id, send.Id, row.Channel, row.Attempts, result.Error);
                break;
        }

        return result;
    }

    /// <summary>Every third of the lease until stopped, the rows the job still holds are renewed in one statement.</summary>
    private async Task RenewLeaseAsync(long sendId, long firstId, long lastId, ChunkLease lease, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(store.LeaseDuration / 3, time, stop);
                try
                {
                    lease.Renew(await store.RenewLeaseAsync(sendId, firstId, lastId, lease.Until, stop));
                }
                catch (Exception e) when (!stop.IsCancellationRequested)
                {
                    // The next renewal tries again; meanwhile the rows near the end of their lease are not sent.
                    logger.LogWarning("Renewing the lease of send {SendId} rows {First}-{Last} failed: {Error}", sendId, firstId, lastId, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The chunk is done.
        }
    }

    private static OutgoingMessage? ComposeMessage(ClaimedDelivery row, Dictionary<(string, MessageFormat), RenderedMessage> messages, SubscriberLinks? links)
    {
        if (links is null)
        {
            return row.Channel == Channels.Telegram && messages.TryGetValue((row.Variant, MessageFormat.Telegram), out var broadcast)
                ? new OutgoingMessage(row.IdempotencyKey, row.Channel, row.Address, broadcast.Subject, broadcast.Body, null)
                : null;
        }

        if (row.Channel == Channels.Email)
        {
            if (!messages.TryGetValue((row.Variant, MessageFormat.EmailHtml), out var html)
                || !messages.TryGetValue((row.Variant, MessageFormat.EmailText), out var text))
            {
                return null;
            }

            return new OutgoingMessage(row.IdempotencyKey, row.Channel, row.Address, html.Subject, html.Personalise(links), text.Personalise(links), links);
        }

        if (!messages.TryGetValue((row.Variant, MessageFormat.Telegram), out var telegram))
        {
            return null;
        }

        return new OutgoingMessage(row.IdempotencyKey, row.Channel, row.Address, telegram.Subject, telegram.Personalise(links), null, links);
    }
}

/// <summary>The rows of one claim a dispatch job still holds, and until when; renewed while the job sends.</summary>
internal sealed class ChunkLease(IReadOnlyList<ClaimedDelivery> rows)
{
    private readonly Lock _gate = new();
    private IReadOnlySet<long> _held = rows.Select(r => r.Id).ToHashSet();
    private DateTimeOffset _until = rows[0].LeaseUntil;

    public DateTimeOffset Until
    {
        get
        {
            lock (_gate)
            {
                return _until;
            }
        }
    }

    /// <summary>Whether the row is still held, with its lease ending after <paramref name="notBefore"/>.</summary>
    public bool Holds(long deliveryId, DateTimeOffset notBefore)
    {
        lock (_gate)
        {
            return _until > notBefore && _held.Contains(deliveryId);
        }
    }

    public void Renew(DeliveryLease lease)
    {
        lock (_gate)
        {
            _held = lease.DeliveryIds;
            _until = lease.Until;
        }
    }
}

/// <summary>A dispatch chunk had transient failures; thrown so Hangfire retries the chunk.</summary>
public sealed class DeliveryRetryException(string message) : Exception(message);
