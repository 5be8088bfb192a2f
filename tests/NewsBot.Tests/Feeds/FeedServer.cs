using System.Collections.Concurrent;
using System.Net;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace NewsBot.Tests.Feeds;

/// <summary>
/// A real Kestrel server on 127.0.0.1 with an OS-chosen port, serving the routes one test maps, and recording the
/// request headers the fetcher sent. Dispose it to stop it.
/// </summary>
public sealed class FeedServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FeedServer(WebApplication app, Uri baseUri, ConcurrentQueue<RecordedRequest> requests)
    {
        _app = app;
        BaseUri = baseUri;
        Requests = requests;
    }

    public Uri BaseUri { get; }

    /// <summary>Every request received, in arrival order.</summary>
    public ConcurrentQueue<RecordedRequest> Requests { get; }

    public static async Task<FeedServer> StartAsync(Action<WebApplication> mapRoutes)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Testing",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        // Handlers of aborted slow requests end at once; this only bounds a stuck one.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(2));

        var app = builder.Build();
        var requests = new ConcurrentQueue<RecordedRequest>();
        app.Use(async (context, next) =>
        {
            var headers = context.Request.Headers;
            requests.Enqueue(new RecordedRequest(
                context.Request.Path + context.Request.QueryString,
                headers.IfNoneMatch.Count > 0 ? headers.IfNoneMatch.ToString() : null,
                headers.IfModifiedSince.Count > 0 ? headers.IfModifiedSince.ToString() : null,
                headers.UserAgent.ToString(),
                headers.Accept.ToString(),
                headers.AcceptEncoding.ToString()));
            await next(context);
        });
        mapRoutes(app);
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>()
            .Addresses.Single();
        return new FeedServer(app, new Uri(address), requests);
    }

    public string Url(string pathAndQuery)
    {
        return new Uri(BaseUri, pathAndQuery).AbsoluteUri;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record RecordedRequest(
    string PathAndQuery,
    string? IfNoneMatch,
    string? IfModifiedSince,
    string UserAgent,
    string Accept,
    string AcceptEncoding);
