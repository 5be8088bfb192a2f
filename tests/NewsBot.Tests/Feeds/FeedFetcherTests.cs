using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

using NewsBot.Feeds;

namespace NewsBot.Tests.Feeds;

public sealed class FeedFetcherTests : IDisposable
{
    private const string Atom = """
        <?xml version="1.0" encoding="utf-8"?>
        <feed xmlns="http://www.w3.org/2005/Atom">
          <title>Fetcher test</title>
          <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
          <updated>2026-11-28T12:00:00Z</updated>
          <entry><title>One</title><id>urn:one</id><updated>2026-11-28T12:00:00Z</updated></entry>
        </feed>
        """;

    private const string AtomType = "application/atom+xml; charset=utf-8";
    private const string LastModified = "Sat, 28 Nov 2026 12:00:00 GMT";

    private readonly HttpClient _http = new(FeedFetcher.CreateHandler());
    private readonly string _tempDir = Path.Combine(Path.GetTempPath(), "newsbot-fetch-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        _http.Dispose();
        if (Directory.Exists(_tempDir))
        {
            Directory.Delete(_tempDir, recursive: true);
        }
    }

    [Fact]
    public async Task Ok_response_returns_body_content_type_etag_and_last_modified()
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/feed.xml", ServeAtom));
        var url = server.Url("/feed.xml");

        var result = await Fetcher().FetchAsync(url, null, null, CancellationToken.None);

        var fetched = Assert.IsType<FeedFetched>(result);
        Assert.Equal(Atom, Encoding.UTF8.GetString(fetched.Body));
        Assert.Equal(AtomType, fetched.ContentType);
        Assert.Equal("\"v1\"", fetched.ETag);
        Assert.Equal(LastModified, fetched.LastModified);
        Assert.Equal(url, fetched.FinalUrl);
        Assert.Null(fetched.PermanentUrl);
    }

    [Fact]
    public async Task Request_carries_user_agent_accept_and_no_validators_on_first_fetch()
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/feed.xml", ServeAtom));
        var options = new FetchOptions { UserAgent = "NewsBot-test/2.0 (+https://example.org/bot)" };

        await Fetcher(options).FetchAsync(server.Url("/feed.xml"), null, null, CancellationToken.None);

        var request = Assert.Single(server.Requests);
        Assert.Equal("NewsBot-test/2.0 (+https://example.org/bot)", request.UserAgent);
        Assert.StartsWith("application/atom+xml, application/rss+xml, application/feed+json", request.Accept);
        Assert.Contains("*/*;q=0.8", request.Accept);
        Assert.Null(request.IfNoneMatch);
        Assert.Null(request.IfModifiedSince);
    }

    [Fact]
    public async Task Default_user_agent_is_sent()
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/feed.xml", ServeAtom));

        await Fetcher().FetchAsync(server.Url("/feed.xml"), null, null, CancellationToken.None);

        Assert.Equal("NewsBot/1.0 (+https://github.com/newsbot/newsbot; feed fetcher)", Assert.Single(server.Requests).UserAgent);
    }

    [Fact]
    public async Task Matching_etag_gives_not_modified()
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/feed.xml", ServeAtom));

        var result = await Fetcher().FetchAsync(server.Url("/feed.xml"), "\"v1\"", null, CancellationToken.None);

        Assert.Equal(new FeedNotModified(null), result);
        var request = Assert.Single(server.Requests);
        Assert.Equal("\"v1\"", request.IfNoneMatch);
    }

    [Fact]
    public async Task Matching_if_modified_since_gives_not_modified()
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/feed.xml", ServeAtom));

        var result = await Fetcher().FetchAsync(server.Url("/feed.xml"), null, LastModified, CancellationToken.None);

        Assert.IsType<FeedNotModified>(result);
        var request = Assert.Single(server.Requests);
        Assert.Equal(LastModified, request.IfModifiedSince);
        Assert.Null(request.IfNoneMatch);
    }

    [Fact]
    public async Task Stale_etag_gets_the_new_body()
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/feed.xml", ServeAtom));

        var result = await Fetcher().FetchAsync(server.Url("/feed.xml"), "\"v0\"", "Mon, 01 Jan 2024 00:00:00 GMT", CancellationToken.None);

        var fetched = Assert.IsType<FeedFetched>(result);
        Assert.Equal("\"v1\"", fetched.ETag);
        var request = Assert.Single(server.Requests);
        Assert.Equal("\"v0\"", request.IfNoneMatch);
        Assert.Equal("Mon, 01 Jan 2024 00:00:00 GMT", request.IfModifiedSince);
    }

    [Theory]
    [InlineData(301, 301)]
    [InlineData(308, 308)]
    [InlineData(301, 308)]
    public async Task Chain_of_permanent_redirects_reports_the_permanent_url(int first, int second)
    {
        await using var server = await FeedServer.StartAsync(app =>
        {
            app.MapGet("/old", Redirect(first, "/middle"));
            app.MapGet("/middle", Redirect(second, "/feed.xml"));
            app.MapGet("/feed.xml", ServeAtom);
        });

        var result = await Fetcher().FetchAsync(server.Url("/old"), null, null, CancellationToken.None);

        var fetched = Assert.IsType<FeedFetched>(result);
        Assert.Equal(server.Url("/feed.xml"), fetched.PermanentUrl);
        Assert.Equal(server.Url("/feed.xml"), fetched.FinalUrl);
        Assert.Equal(Atom, Encoding.UTF8.GetString(fetched.Body));
        Assert.Equal(["/old", "/middle", "/feed.xml"], server.Requests.Select(r => r.PathAndQuery));
    }

    [Theory]
    [InlineData(302)]
    [InlineData(303)]
    [InlineData(307)]
    public async Task Temporary_redirect_is_followed_but_not_permanent(int status)
    {
        await using var server = await FeedServer.StartAsync(app =>
        {
            app.MapGet("/old", Redirect(status, "/feed.xml"));
            app.MapGet("/feed.xml", ServeAtom);
        });

        var result = await Fetcher().FetchAsync(server.Url("/old"), null, null, CancellationToken.None);

        var fetched = Assert.IsType<FeedFetched>(result);
        Assert.Null(fetched.PermanentUrl);
        Assert.Equal(server.Url("/feed.xml"), fetched.FinalUrl);
    }

    [Fact]
    public async Task Temporary_then_permanent_redirect_is_not_permanent()
    {
        await using var server = await FeedServer.StartAsync(app =>
        {
            app.MapGet("/old", Redirect(302, "/middle"));
            app.MapGet("/middle", Redirect(301, "/feed.xml"));
            app.MapGet("/feed.xml", ServeAtom);
        });

        var result = await Fetcher().FetchAsync(server.Url("/old"), null, null, CancellationToken.None);

        var fetched = Assert.IsType<FeedFetched>(result);
        Assert.Null(fetched.PermanentUrl);
        Assert.Equal(server.Url("/feed.xml"), fetched.FinalUrl);
    }

    [Fact]
    public async Task Permanent_then_temporary_redirect_remembers_the_permanent_target_only()
    {
        await using var server = await FeedServer.StartAsync(app =>
        {
            app.MapGet("/old", Redirect(301, "/new"));
            app.MapGet("/new", Redirect(307, "/today.xml"));
            app.MapGet("/today.xml", ServeAtom);
        });

        var result = await Fetcher().FetchAsync(server.Url("/old"), null, null, CancellationToken.None);

        var fetched = Assert.IsType<FeedFetched>(result);
        Assert.Equal(server.Url("/new"), fetched.PermanentUrl);
        Assert.Equal(server.Url("/today.xml"), fetched.FinalUrl);
    }

    [Fact]
    public async Task Permanent_redirect_then_not_modified_keeps_the_permanent_url()
    {
        await using var server = await FeedServer.StartAsync(app =>
        {
            app.MapGet("/old", Redirect(301, "/feed.xml"));
            app.MapGet("/feed.xml", ServeAtom);
        });

        var result = await Fetcher().FetchAsync(server.Url("/old"), "\"v1\"", null, CancellationToken.None);

        Assert.Equal(new FeedNotModified(server.Url("/feed.xml")), result);
        Assert.All(server.Requests, r => Assert.Equal("\"v1\"", r.IfNoneMatch));
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Relative_location_is_resolved_against_the_request_url()
    {
        await using var server = await FeedServer.StartAsync(app =>
        {
            app.MapGet("/blog/old/index.xml", Redirect(301, "../new/feed.xml?lang=en"));
            app.MapGet("/blog/new/feed.xml", ServeAtom);
        });

        var result = await Fetcher().FetchAsync(server.Url("/blog/old/index.xml"), null, null, CancellationToken.None);

        var fetched = Assert.IsType<FeedFetched>(result);
        Assert.Equal(server.Url("/blog/new/feed.xml?lang=en"), fetched.FinalUrl);
        Assert.Equal(server.Url("/blog/new/feed.xml?lang=en"), fetched.PermanentUrl);
    }

    [Fact]
    public async Task Redirect_loop_fails_naming_the_loop()
    {
        await using var server = await FeedServer.StartAsync(app =>
        {
            app.MapGet("/a", Redirect(301, "/b"));
            app.MapGet("/b", Redirect(302, "/a"));
        });
        var url = server.Url("/a");

        var e = await Assert.ThrowsAsync<FeedFetchException>(() => Fetcher().FetchAsync(url, null, null, CancellationToken.None));

        Assert.Equal($"GET {url}: redirect loop: {url} -> {server.Url("/b")} -> {url}", e.Message);
        Assert.False(e.Transient);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Too_many_redirects_fails_after_max_redirects()
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/hop/{n:int}", (int n) =>
            Results.Redirect($"/hop/{n + 1}", permanent: true, preserveMethod: true)));
        var url = server.Url("/hop/0");

        var e = await Assert.ThrowsAsync<FeedFetchException>(() =>
            Fetcher(new FetchOptions { MaxRedirects = 3 }).FetchAsync(url, null, null, CancellationToken.None));

        Assert.StartsWith($"GET {url}: too many redirects (more than 3): {url} -> ", e.Message);
        Assert.EndsWith(server.Url("/hop/4"), e.Message);
        Assert.Equal(308, e.StatusCode);
        Assert.False(e.Transient);
        // The source plus the three redirects allowed.
        Assert.Equal(["/hop/0", "/hop/1", "/hop/2", "/hop/3"], server.Requests.Select(r => r.PathAndQuery));
    }

    [Theory]
    [InlineData(null, "without a Location header")]
    [InlineData("http://[::1", "with an invalid Location header \"http://[::1\"")]
    public async Task Redirect_without_a_usable_location_fails(string? location, string problem)
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/old", context =>
        {
            context.Response.StatusCode = 301;
            if (location is not null)
            {
                context.Response.Headers.Location = location;
            }

            return Task.CompletedTask;
        }));
        var url = server.Url("/old");

        var e = await Assert.ThrowsAsync<FeedFetchException>(() => Fetcher().FetchAsync(url, null, null, CancellationToken.None));

        Assert.Equal($"GET {url}: HTTP 301 redirect {problem}", e.Message);
        Assert.Equal(301, e.StatusCode);
        Assert.False(e.Transient);
    }

    [Fact]
    public async Task Redirect_to_a_local_file_is_refused()
    {
        var secret = WriteTempFile("secret.xml", Atom);
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/feed", Redirect(302, new Uri(secret).AbsoluteUri)));
        var url = server.Url("/feed");

        var e = await Assert.ThrowsAsync<FeedFetchException>(() => Fetcher().FetchAsync(url, null, null, CancellationToken.None));

        Assert.StartsWith($"GET {url}: redirect to unsupported scheme \"file\"", e.Message);
        Assert.False(e.Transient);
    }

    [Theory]
    [InlineData(404, "Not Found", false)]
    [InlineData(410, "Gone", false)]
    [InlineData(403, "Forbidden", false)]
    [InlineData(408, "Request Timeout", true)]
    [InlineData(429, "Too Many Requests", true)]
    [InlineData(500, "Internal Server Error", true)]
    [InlineData(503, "Service Unavailable", true)]
    public async Task Error_status_fails_with_status_and_transience(int status, string reason, bool transient)
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/feed.xml", () => Results.StatusCode(status)));
        var url = server.Url("/feed.xml");

        var e = await Assert.ThrowsAsync<FeedFetchException>(() => Fetcher().FetchAsync(url, null, null, CancellationToken.None));

        Assert.Equal($"GET {url}: HTTP {status} {reason}", e.Message);
        Assert.Equal(status, e.StatusCode);
        Assert.Equal(transient, e.Transient);
    }

    [Fact]
    public async Task Error_after_redirect_names_where_it_happened()
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/old", Redirect(301, "/gone")));
        var url = server.Url("/old");

        var e = await Assert.ThrowsAsync<FeedFetchException>(() => Fetcher().FetchAsync(url, null, null, CancellationToken.None));

        Assert.Equal($"GET {url}: HTTP 404 Not Found (at {server.Url("/gone")})", e.Message);
        Assert.Equal(404, e.StatusCode);
    }

    [Fact]
    public async Task Server_slow_to_answer_times_out()
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/slow", async context =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
        }));
        var url = server.Url("/slow");

        var e = await Assert.ThrowsAsync<FeedFetchException>(() =>
            Fetcher(new FetchOptions { Timeout = TimeSpan.FromMilliseconds(300) }).FetchAsync(url, null, null, CancellationToken.None));

        Assert.Equal($"GET {url}: timed out after 0.3 s", e.Message);
        Assert.True(e.Transient);
        Assert.Null(e.StatusCode);
    }

    [Fact]
    public async Task Body_that_trickles_past_the_timeout_times_out()
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/slow", async context =>
        {
            context.Response.ContentType = AtomType;
            await context.Response.WriteAsync(Atom[..40], context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
        }));
        var url = server.Url("/slow");

        var e = await Assert.ThrowsAsync<FeedFetchException>(() =>
            Fetcher(new FetchOptions { Timeout = TimeSpan.FromMilliseconds(300) }).FetchAsync(url, null, null, CancellationToken.None));

        Assert.Equal($"GET {url}: timed out after 0.3 s", e.Message);
        Assert.True(e.Transient);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_reported_as_a_timeout()
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/slow", async context =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
        }));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Fetcher().FetchAsync(server.Url("/slow"), null, null, cancel.Token));
    }

    [Fact]
    public async Task Declared_content_length_over_the_cap_fails_before_reading()
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/big", async context =>
        {
            context.Response.ContentLength = 100_000;
            await context.Response.Body.WriteAsync(new byte[100_000], context.RequestAborted);
        }));
        var url = server.Url("/big");

        var e = await Assert.ThrowsAsync<FeedFetchException>(() =>
            Fetcher(new FetchOptions { MaxBytes = 64 * 1024 }).FetchAsync(url, null, null, CancellationToken.None));

        Assert.Equal($"GET {url}: response exceeds the 64 KB size cap (declared 100000 bytes)", e.Message);
        Assert.False(e.Transient);
    }

    [Fact]
    public async Task Default_cap_is_ten_megabytes()
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/big", async context =>
        {
            // Declares more than it sends: the fetcher must refuse on the header alone.
            context.Response.ContentLength = 12_345_678;
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
        }));
        var url = server.Url("/big");

        var e = await Assert.ThrowsAsync<FeedFetchException>(() => Fetcher().FetchAsync(url, null, null, CancellationToken.None));

        Assert.Equal($"GET {url}: response exceeds the 10 MB size cap (declared 12345678 bytes)", e.Message);
    }

    [Fact]
    public async Task Chunked_body_over_the_cap_fails_while_streaming()
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/big", async context =>
        {
            for (var i = 0; i < 13; i++)
            {
                await context.Response.Body.WriteAsync(new byte[8 * 1024], context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }));
        var url = server.Url("/big");

        var e = await Assert.ThrowsAsync<FeedFetchException>(() =>
            Fetcher(new FetchOptions { MaxBytes = 64 * 1024 }).FetchAsync(url, null, null, CancellationToken.None));

        Assert.Equal($"GET {url}: response exceeds the 64 KB size cap (read more than 65536 bytes)", e.Message);
        Assert.False(e.Transient);
    }

    [Fact]
    public async Task Chunked_body_of_exactly_the_cap_is_accepted()
    {
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/full", async context =>
        {
            for (var i = 0; i < 8; i++)
            {
                await context.Response.Body.WriteAsync(Enumerable.Repeat((byte)('a' + i), 8 * 1024).ToArray(), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }));

        var result = await Fetcher(new FetchOptions { MaxBytes = 64 * 1024 })
            .FetchAsync(server.Url("/full"), null, null, CancellationToken.None);

        var fetched = Assert.IsType<FeedFetched>(result);
        Assert.Equal(64 * 1024, fetched.Body.Length);
        Assert.Equal((byte)'h', fetched.Body[^1]);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("br")]
    public async Task Compressed_body_is_decompressed(string encoding)
    {
        var compressed = Compress(Encoding.UTF8.GetBytes(Atom), encoding);
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/feed.xml", async context =>
        {
            context.Response.ContentType = AtomType;
            context.Response.Headers.ContentEncoding = encoding;
            context.Response.ContentLength = compressed.Length;
            await context.Response.Body.WriteAsync(compressed, context.RequestAborted);
        }));

        var result = await Fetcher().FetchAsync(server.Url("/feed.xml"), null, null, CancellationToken.None);

        var fetched = Assert.IsType<FeedFetched>(result);
        Assert.Equal(Atom, Encoding.UTF8.GetString(fetched.Body));
        Assert.Contains(encoding, Assert.Single(server.Requests).AcceptEncoding);
    }

    [Fact]
    public async Task Gzip_bomb_is_stopped_by_the_cap_on_the_decompressed_size()
    {
        var compressed = Compress(new byte[1024 * 1024], "gzip");
        await using var server = await FeedServer.StartAsync(app => app.MapGet("/bomb", async context =>
        {
            context.Response.Headers.ContentEncoding = "gzip";
            context.Response.ContentLength = compressed.Length;
            await context.Response.Body.WriteAsync(compressed, context.RequestAborted);
        }));
        var url = server.Url("/bomb");

        var e = await Assert.ThrowsAsync<FeedFetchException>(() =>
            Fetcher(new FetchOptions { MaxBytes = 64 * 1024 }).FetchAsync(url, null, null, CancellationToken.None));

        Assert.True(compressed.Length < 64 * 1024, $"compressed size {compressed.Length}");
        Assert.Equal($"GET {url}: response exceeds the 64 KB size cap (read more than 65536 bytes)", e.Message);
    }

    [Fact]
    public async Task Connection_refused_is_a_transient_network_error()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var url = $"http://127.0.0.1:{port}/feed.xml";

        var e = await Assert.ThrowsAsync<FeedFetchException>(() => Fetcher().FetchAsync(url, null, null, CancellationToken.None));

        Assert.StartsWith($"GET {url}: could not connect to 127.0.0.1:{port} (", e.Message);
        Assert.True(e.Transient);
        Assert.Null(e.StatusCode);
    }

    [Fact]
    public async Task Local_file_path_is_read_and_unchanged_file_is_not_modified()
    {
        var path = WriteTempFile("feed.xml", Atom);
        var fetcher = Fetcher();

        var first = Assert.IsType<FeedFetched>(await fetcher.FetchAsync(path, null, null, CancellationToken.None));
        var byEtag = await fetcher.FetchAsync(path, first.ETag, first.LastModified, CancellationToken.None);
        var byDate = await fetcher.FetchAsync(path, null, first.LastModified, CancellationToken.None);

        Assert.Equal(Atom, Encoding.UTF8.GetString(first.Body));
        Assert.Equal(new Uri(path).AbsoluteUri, first.FinalUrl);
        Assert.NotNull(first.ETag);
        Assert.NotNull(first.LastModified);
        Assert.Null(first.PermanentUrl);
        Assert.Equal(new FeedNotModified(null), byEtag);
        Assert.Equal(new FeedNotModified(null), byDate);
    }

    [Fact]
    public async Task Changed_local_file_is_read_again()
    {
        var path = WriteTempFile("feed.xml", Atom);
        var fetcher = Fetcher();
        var first = Assert.IsType<FeedFetched>(await fetcher.FetchAsync(path, null, null, CancellationToken.None));

        var changed = Atom.Replace("<title>One</title>", "<title>One, edited</title>");
        File.WriteAllText(path, changed);
        var second = await fetcher.FetchAsync(path, first.ETag, first.LastModified, CancellationToken.None);

        var fetched = Assert.IsType<FeedFetched>(second);
        Assert.Equal(changed, Encoding.UTF8.GetString(fetched.Body));
        Assert.NotEqual(first.ETag, fetched.ETag);
    }

    [Fact]
    public async Task File_uri_is_read()
    {
        var path = WriteTempFile("with space.xml", Atom);
        var uri = new Uri(path).AbsoluteUri;

        var result = await Fetcher().FetchAsync(uri, null, null, CancellationToken.None);

        var fetched = Assert.IsType<FeedFetched>(result);
        Assert.Equal(Atom, Encoding.UTF8.GetString(fetched.Body));
        Assert.Equal(uri, fetched.FinalUrl);
    }

    [Fact]
    public async Task Missing_local_file_fails_naming_the_path()
    {
        var path = Path.Combine(_tempDir, "missing.xml");

        var e = await Assert.ThrowsAsync<FeedFetchException>(() => Fetcher().FetchAsync(path, null, null, CancellationToken.None));

        Assert.Equal($"read {path}: file not found", e.Message);
        Assert.False(e.Transient);
    }

    [Fact]
    public async Task Local_file_over_the_cap_fails()
    {
        var path = WriteTempFile("big.xml", new string('x', 70_000));

        var e = await Assert.ThrowsAsync<FeedFetchException>(() =>
            Fetcher(new FetchOptions { MaxBytes = 64 * 1024 }).FetchAsync(path, null, null, CancellationToken.None));

        Assert.Equal($"read {path}: file exceeds the 64 KB size cap (70000 bytes)", e.Message);
        Assert.False(e.Transient);
    }

    [Fact]
    public async Task Unsupported_scheme_fails_without_a_request()
    {
        var e = await Assert.ThrowsAsync<FeedFetchException>(() =>
            Fetcher().FetchAsync("ftp://ftp.example.org/feed.xml", null, null, CancellationToken.None));

        Assert.Equal("GET ftp://ftp.example.org/feed.xml: unsupported scheme \"ftp\" (only http, https and file are allowed)", e.Message);
        Assert.False(e.Transient);
        Assert.Null(e.StatusCode);
    }

    [Fact]
    public async Task Url_without_scheme_fails_as_not_absolute()
    {
        var e = await Assert.ThrowsAsync<FeedFetchException>(() =>
            Fetcher().FetchAsync("example.org/feed.xml", null, null, CancellationToken.None));

        Assert.Equal("GET example.org/feed.xml: not an absolute URL or file path", e.Message);
        Assert.False(e.Transient);
    }

    private FeedFetcher Fetcher(FetchOptions? options = null)
    {
        return new FeedFetcher(_http, options ?? new FetchOptions());
    }

    private string WriteTempFile(string name, string content)
    {
        Directory.CreateDirectory(_tempDir);
        var path = Path.Combine(_tempDir, name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Serves <see cref="Atom"/> with validators, answering 304 when the request's validators match.</summary>
    private static async Task ServeAtom(HttpContext context)
    {
        var request = context.Request.Headers;
        context.Response.Headers.ETag = "\"v1\"";
        context.Response.Headers.LastModified = LastModified;
        // RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since when both are sent.
        var notModified = request.IfNoneMatch.Count > 0
            ? request.IfNoneMatch.ToString() == "\"v1\""
            : request.IfModifiedSince.ToString() == LastModified;
        if (notModified)
        {
            context.Response.StatusCode = 304;
            return;
        }

        context.Response.ContentType = AtomType;
        await context.Response.WriteAsync(Atom, context.RequestAborted);
    }

    private static RequestDelegate Redirect(int status, string location)
    {
        return context =>
        {
            context.Response.StatusCode = status;
            context.Response.Headers.Location = location;
            return Task.CompletedTask;
        };
    }

    private static byte[] Compress(byte[] data, string encoding)
    {
        using var output = new MemoryStream();
        using (Stream compressor = encoding switch
        {
            "gzip" => new GZipStream(output, CompressionLevel.Optimal),
            "deflate" => new ZLibStream(output, CompressionLevel.Optimal),
            "br" => new BrotliStream(output, CompressionLevel.Optimal),
            _ => throw new ArgumentException($"unknown encoding {encoding}", nameof(encoding)),
        })
        {
            compressor.Write(data);
        }

        return output.ToArray();
    }
}
