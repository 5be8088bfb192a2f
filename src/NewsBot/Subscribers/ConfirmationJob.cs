using Hangfire;

using Microsoft.Extensions.Options;

using NewsBot.Delivery;
using NewsBot.Templates;

namespace NewsBot.Subscribers;

/// <summary>
/// The work behind a subscribe form, done after the page has answered, so the answer is the same, and as fast,
/// whether or not the address is known: a new address becomes a pending subscriber; a known one that is not
/// active takes the new topics and cadence and becomes pending again; each then gets a confirmation link. An
/// active one gets its preferences link instead, and a suppressed one nothing.
/// </summary>
public sealed class ConfirmationJob(
    SubscriberStore subscribers,
    SubscriptionTokens tokens,
    TemplateRenderer renderer,
    IEnumerable<IChannel> channels,
    IOptions<TemplateOptions> templateOptions,
    TimeProvider time,
    ILogger<ConfirmationJob> logger)
{
    private static readonly ChannelStatus[] Restartable = [ChannelStatus.Unsubscribed, ChannelStatus.Bounced, ChannelStatus.Blocked];

    /// <param name="requestId">Names the mail, so a retried job never sends it twice (the channel's idempotency key).</param>
    /// <param name="email">An address already normalised by the page.</param>
    /// <exception cref="DeliveryRetryException">The mail failed transiently; Hangfire retries the job.</exception>
    [AutomaticRetry(Attempts = 5)]
    [JobDisplayName("confirmation mail {0}")]
    public async Task SendAsync(string requestId, string email, string[] topics, string cadence, CancellationToken ct)
    {
        if ((await subscribers.FindSuppressedAsync(Channels.Email, [email], ct)).Count > 0)
        {
            logger.LogInformation("Subscribe request {RequestId}: the address is suppressed; no mail sent", requestId);
            return;
        }

        var subscriber = await subscribers.FindByAddressAsync(Channels.Email, email, ct);
        if (subscriber is null)
        {
            try
            {
                await subscribers.AddAsync(new NewSubscriber(email, null, topics, SubscriberStore.ParseCadence(cadence), Status: ChannelStatus.PendingConfirmation), ct);
            }
            catch (SubscriberException)
            {
                // The same address subscribed by a concurrent request: carry on with that subscriber.
            }

            subscriber = await subscribers.FindByAddressAsync(Channels.Email, email, ct)
                ?? throw new InvalidOperationException($"Subscribe request {requestId}: the new subscriber is gone");
        }

        var status = subscriber.Channels.First(c => c.Channel == Channels.Email).Status;
        if (status != ChannelStatus.Active)
        {
            // Nothing is sent to a channel that is not active, so changing its settings before the confirmation is safe.
            await subscribers.SetTopicsAsync(subscriber.Id, topics, ct);
            await subscribers.SetCadenceAsync(subscriber.Id, SubscriberStore.ParseCadence(cadence), ct);
            await subscribers.ChangeChannelStatusAsync(subscriber.Id, Channels.Email, Restartable, ChannelStatus.PendingConfirmation, ct);
        }

        var baseUrl = templateOptions.Value.PublicBaseUrl.TrimEnd('/');
        var preferences = $"{baseUrl}/preferences?t={tokens.Create(TokenPurpose.Preferences, subscriber.Id, Channels.Email)}";
        var confirmation = status == ChannelStatus.Active
            ? new ConfirmationEmail(email, null, preferences, subscriber.Topics, SubscriberStore.FormatCadence(subscriber.Cadence), null)
            : new ConfirmationEmail(
                email,
                $"{baseUrl}/confirm?t={tokens.Create(TokenPurpose.Confirm, subscriber.Id, Channels.Email)}",
                null,
                topics,
                cadence,
                TemplateRenderer.FormatTime(time.GetUtcNow().Add(SubscriptionTokens.ConfirmLifetime)));
        var message = renderer.RenderConfirmation(confirmation);
        var channel = channels.Last(c => c.Name == Channels.Email);
        var result = await channel.SendAsync(
            new OutgoingMessage($"confirm:{requestId}", Channels.Email, email, message.Subject, message.Html, message.Text), ct);
        switch (result.Outcome)
        {
            case ChannelOutcome.Sent:
                logger.LogInformation("Subscribe request {RequestId}: confirmation mail sent to subscriber {SubscriberId}", requestId, subscriber.Id);
                break;
            case ChannelOutcome.FailedPermanent:
                logger.LogWarning("Subscribe request {RequestId}: the confirmation mail was refused: {Error}", requestId, result.Error);
                break;
            default:
                throw new DeliveryRetryException($"Subscribe request {requestId}: the confirmation mail failed transiently: {result.Error}");
        }
    }
}
