using System.Text;

using Hangfire.Dashboard;

namespace NewsBot.Admin;

/// <summary>
/// The Hangfire dashboard: open to local requests; from elsewhere it needs the admin token, as a bearer token or
/// as the password of HTTP basic sign-in (RFC 7617; any user name), and is closed when no token is configured.
/// </summary>
public sealed class DashboardAuthorization(AdminOptions options) : IDashboardAuthorizationFilter
{
    private static readonly LocalRequestsOnlyAuthorizationFilter Local = new();

    public bool Authorize(DashboardContext context)
    {
        if (Local.Authorize(context))
        {
            return true;
        }

        var http = context.GetHttpContext();
        if (options.Token is { } token && PresentedToken(http.Request.Headers.Authorization.ToString()) is { } presented && AdminApi.IsToken(presented, token))
        {
            return true;
        }

        // Without a challenge browsers show a bare 401 instead of asking for the password.
        http.Response.Headers.WWWAuthenticate = "Basic realm=\"NewsBot jobs\", charset=\"UTF-8\"";
        return false;
    }

    private static string? PresentedToken(string header)
    {
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        try
        {
            var userAndPassword = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
            var colon = userAndPassword.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? null : userAndPassword[(colon + 1)..];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
