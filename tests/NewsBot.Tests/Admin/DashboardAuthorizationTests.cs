using System.Net;
using System.Text;

using Hangfire;
using Hangfire.Dashboard;
using Hangfire.Storage;

using Microsoft.AspNetCore.Http;

using NewsBot.Admin;

namespace NewsBot.Tests.Admin;

public sealed class DashboardAuthorizationTests
{
    private const string Token = "a-long-admin-token-0123456789";

    private static bool Authorize(string? token, string remoteIp, string? authorization, out HttpContext http)
    {
        http = new DefaultHttpContext { RequestServices = new ServiceCollection().BuildServiceProvider() };
        http.Connection.RemoteIpAddress = IPAddress.Parse(remoteIp);
        http.Connection.LocalIpAddress = IPAddress.Parse("192.0.2.10");
        if (authorization is not null)
        {
            http.Request.Headers.Authorization = authorization;
        }

        var context = new AspNetCoreDashboardContext(new NoStorage(), new DashboardOptions(), http);
        return new DashboardAuthorization(new AdminOptions { Token = token }).Authorize(context);
    }

    private static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    [Fact]
    public void LocalRequestsNeedNoToken()
    {
        Assert.True(Authorize(Token, "127.0.0.1", null, out _));
    }

    [Fact]
    public void RemoteRequestsWithoutTheTokenAreChallenged()
    {
        Assert.False(Authorize(Token, "203.0.113.7", null, out var http));
        Assert.StartsWith("Basic realm=", http.Response.Headers.WWWAuthenticate.ToString());
    }

    [Theory]
    [InlineData("Bearer " + Token, true)]
    [InlineData("Bearer wrong-token-0123456789", false)]
    [InlineData("Basic !!notbase64", false)]
    public void RemoteRequestsNeedTheToken(string authorization, bool allowed)
    {
        Assert.Equal(allowed, Authorize(Token, "203.0.113.7", authorization, out _));
    }

    [Fact]
    public void BasicSignInTakesTheTokenAsPassword()
    {
        Assert.True(Authorize(Token, "203.0.113.7", Basic("admin", Token), out _));
        Assert.False(Authorize(Token, "203.0.113.7", Basic("admin", "guess"), out _));
    }

    [Fact]
    public void WithoutATokenTheDashboardIsLocalOnly()
    {
        Assert.False(Authorize(null, "203.0.113.7", "Bearer " + Token, out _));
    }

    /// <summary>The filter reads only the request; a storage that is never asked keeps Hangfire's global logging out of it.</summary>
    private sealed class NoStorage : JobStorage
    {
        public override IMonitoringApi GetMonitoringApi() => throw new InvalidOperationException("not used by the filter");

        public override IStorageConnection GetConnection() => throw new InvalidOperationException("not used by the filter");
    }
}
