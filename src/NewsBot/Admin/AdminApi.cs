using System.Security.Cryptography;
using System.Text;

using Microsoft.Extensions.Options;

using NewsBot.Email;

namespace NewsBot.Admin;

/// <summary>
/// <c>/api/admin</c>: sends, their reports, previews and retries, and the bounces, for a bearer of <c>NewsBot:Admin:Token</c>.
/// Without a configured token the whole API answers 404: it does not exist.
/// </summary>
public static class AdminApi
{
    public sealed record SendBody(string? Kind, long? PostId, string? Cadence, string[]? Channels, string[]? Topics, bool DryRun, DateTimeOffset? Since);

    public sealed record PreviewBody(long? PostId, string? Channel);

    public static WebApplication MapAdminApi(this WebApplication app)
    {
        var api = app.MapGroup("/api/admin").AddEndpointFilter(RequireAdminTokenAsync);
        api.MapPost("/sends", CreateSendAsync);
        api.MapGet("/sends/{id:long}", GetSendAsync);
        api.MapPost("/sends/{id:long}/retry-failed", RetryFailedAsync);
        api.MapPost("/preview", PreviewAsync);
        api.MapGet("/bounces", ListBouncesAsync);
        return app;
    }

    private static async Task<IResult> CreateSendAsync(SendBody body, AdminService admin, CancellationToken ct) =>
        await AnswerAsync(async () =>
        {
            var plan = await admin.CreateSendAsync(new AdminSendRequest(body.Kind, body.PostId, body.Cadence, body.Channels, body.Topics, body.DryRun, body.Since), "api", ct);
            return Results.Json(new { id = plan.SendId, audience = plan.Audience, messages = plan.Messages, eta = plan.Eta }, statusCode: plan.SendId is null ? 200 : 202);
        });

    private static async Task<IResult> GetSendAsync(long id, AdminService admin, CancellationToken ct)
    {
        var report = await admin.GetReportAsync(id, ct);
        return report is null ? Results.Problem($"send {id} does not exist", statusCode: 404) : Results.Json(report);
    }

    private static async Task<IResult> RetryFailedAsync(long id, AdminService admin, CancellationToken ct) =>
        await AnswerAsync(async () => Results.Json(new { id, requeued = await admin.RetryFailedAsync(id, ct) }));

    private static async Task<IResult> PreviewAsync(PreviewBody body, AdminService admin, CancellationToken ct) =>
        await AnswerAsync(async () =>
        {
            var message = await admin.PreviewPostAsync(body.PostId, body.Channel, ct);
            return Results.Json(new { subject = message.Subject, body = message.Personalise(AdminService.PreviewLinks) });
        });

    /// <summary>The newest bounces and complaints from the bounce mailbox (<c>?limit=</c>, default 50; <c>?address=</c>; <c>?send=</c>).</summary>
    private static async Task<IResult> ListBouncesAsync(BounceStore bounces, int? limit, string? address, long? send, CancellationToken ct)
    {
        if (limit is < 1 or > 1000)
        {
            return Results.Problem($"limit {limit} must be between 1 and 1000", statusCode: 400);
        }

        var list = await bounces.ListRecentAsync(limit ?? 50, address, send, ct);
        return Results.Json(list.Select(b => new
        {
            id = b.Id,
            at = b.CreatedAt,
            address = b.Address,
            kind = BounceStore.KindName(b.Kind),
            status = b.Status,
            action = b.Action,
            diagnostic = b.Diagnostic,
            suppressed = b.Suppressed,
            subscriberId = b.SubscriberId,
            sendId = b.SendId,
            report = b.ReportKey,
        }));
    }

    private static async Task<IResult> AnswerAsync(Func<Task<IResult>> answer)
    {
        try
        {
            return await answer();
        }
        catch (AdminRequestException e)
        {
            return Results.Problem(e.Message, statusCode: 400);
        }
    }

    /// <summary>RFC 6750 §3: no credentials is 401 with a challenge; a wrong token is refused with 403.</summary>
    private static async ValueTask<object?> RequireAdminTokenAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var options = http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value;
        if (!options.ApiEnabled)
        {
            return Results.Problem("the admin API is off: set NewsBot:Admin:Token to turn it on", statusCode: 404);
        }

        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"newsbot-admin\"";
            return Results.Problem("Authorization: Bearer <NewsBot:Admin:Token> is required", statusCode: 401);
        }

        return IsToken(header["Bearer ".Length..].Trim(), options.Token!)
            ? await next(context)
            : Results.Problem("the bearer token is not the admin token", statusCode: 403);
    }

    /// <summary>Compares in constant time so response timing does not reveal a token's prefix.</summary>
    public static bool IsToken(string presented, string token) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
