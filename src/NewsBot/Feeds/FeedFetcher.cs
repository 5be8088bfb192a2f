using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

using Microsoft.AspNetCore.WebUtilities;

namespace NewsBot.Feeds;

/// <summary>
/// Downloads a feed over HTTP(S) with conditional GET, or reads it from a local file. Give it an
/// <see cref="HttpClient"/> built on <see cref="CreateHandler"/> whose own <see cref="HttpClient.Timeout"/> is not
/// shorter than <see cref="FetchOptions.Timeout"/>: redirects are followed here, hop by hop.
/// </summary>
public sealed class FeedFetcher(HttpClient http, FetchOptions options)
{
    private const string AcceptHeader =
        "application/atom+xml, application/rss+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8";

    public static HttpMessageHandler CreateHandler()
    {
        return new SocketsHttpHandler
        {
            // Redirects are followed by FetchAsync so it can tell permanent hops from temporary ones.
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.All,
            // A long-lived client must still notice DNS changes of feed hosts.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
    }

    /// <summary>
    /// Fetches <paramref name="source"/> (http, https, file URI or absolute local path), sending the validators of
    /// the previous fetch. Throws <see cref="FeedFetchException"/> with a message naming the source.
    /// </summary>
    public async Task<FetchResult> FetchAsync(string source, string? etag, string? lastModified, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);

        if (Path.IsPathFullyQualified(source))
        {
            return await ReadFileAsync(Path.GetFullPath(source), etag, lastModified, ct);
        }

        if (!Uri.TryCreate(source, UriKind.Absolute, out var uri))
        {
            throw new FeedFetchException($"GET {source}: not an absolute URL or file path", null, transient: false);
        }

        if (uri.IsFile)
        {
            return await ReadFileAsync(uri.LocalPath, etag, lastModified, ct);
        }

        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new FeedFetchException(
                $"GET {source}: unsupported scheme \"{uri.Scheme}\" (only http, https and file are allowed)", null, transient: false);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Timeout);
        try
        {
            return await GetAsync(source, uri, etag, lastModified, timeout.Token);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            var seconds = options.Timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            throw new FeedFetchException($"GET {source}: timed out after {seconds} s", null, transient: true, e);
        }
    }

    private async Task<FetchResult> GetAsync(string source, Uri uri, string? etag, string? lastModified, CancellationToken ct)
    {
        var chain = new List<Uri> { uri };
        var current = uri;
        string? permanentUrl = null;
        var permanentSoFar = true;

        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            // Sent verbatim: the validators are opaque strings the server gave us (RFC 9110 §8.8.3, §13.1.1).
            request.Headers.TryAddWithoutValidation("User-Agent", options.UserAgent);
            request.Headers.TryAddWithoutValidation("Accept", AcceptHeader);
            if (!string.IsNullOrEmpty(etag))
            {
                request.Headers.TryAddWithoutValidation("If-None-Match", etag);
            }

            if (!string.IsNullOrEmpty(lastModified))
            {
                request.Headers.TryAddWithoutValidation("If-Modified-Since", lastModified);
            }

            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            }
            catch (HttpRequestException e)
            {
                throw new FeedFetchException($"GET {source}: {DescribeNetworkError(e, current)}", null, transient: true, e);
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                if (status is 301 or 302 or 303 or 307 or 308)
                {
                    var next = ResolveRedirect(source, current, response, chain);
                    // RFC 9110 §15.4.2/§15.4.9: only permanent redirects tell us to update the stored URL. After a
                    // temporary hop, later targets are not the source's new home, so the last permanent one stands.
                    permanentSoFar = permanentSoFar && status is 301 or 308;
                    if (permanentSoFar)
                    {
                        permanentUrl = next.AbsoluteUri;
                    }

                    chain.Add(next);
                    current = next;
                    continue;
                }

                if (status == 304)
                {
                    return new FeedNotModified(permanentUrl);
                }

                if (!response.IsSuccessStatusCode)
                {
                    var reason = ReasonPhrases.GetReasonPhrase(status);
                    if (reason.Length == 0)
                    {
                        reason = response.ReasonPhrase ?? "";
                    }

                    var where = current == uri ? "" : $" (at {current.AbsoluteUri})";
                    // RFC 9110 §15.5.9 (408), RFC 6585 §4 (429) and 5xx may succeed later; other 4xx will not.
                    var transient = status is 408 or 429 || status >= 500;
                    throw new FeedFetchException($"GET {source}: HTTP {status} {reason}{where}".TrimEnd(), status, transient);
                }

                var declared = response.Content.Headers.ContentLength;
                if (declared > options.MaxBytes)
                {
                    throw new FeedFetchException(
                        $"GET {source}: response exceeds the {FormatSize(options.MaxBytes)} size cap (declared {declared} bytes)",
                        null,
                        transient: false);
                }

                byte[] body;
                try
                {
                    await using var stream = await response.Content.ReadAsStreamAsync(ct);
                    body = await ReadCappedAsync(stream, $"GET {source}: response", ct);
                }
                catch (HttpRequestException e)
                {
                    throw new FeedFetchException($"GET {source}: {DescribeNetworkError(e, current)}", null, transient: true, e);
                }
                catch (IOException e)
                {
                    throw new FeedFetchException($"GET {source}: reading the body failed ({e.Message})", null, transient: true, e);
                }
                catch (InvalidDataException e)
                {
                    throw new FeedFetchException($"GET {source}: the compressed body is corrupt ({e.Message})", null, transient: false, e);
                }

                return new FeedFetched(
                    body,
                    HeaderValue(response.Content.Headers, "Content-Type"),
                    HeaderValue(response.Headers, "ETag"),
                    HeaderValue(response.Content.Headers, "Last-Modified"),
                    current.AbsoluteUri,
                    permanentUrl);
            }
        }
    }

    private Uri ResolveRedirect(string source, Uri current, HttpResponseMessage response, List<Uri> chain)
    {
        var status = (int)response.StatusCode;
        var location = response.Headers.Location;
        if (location is null)
        {
            var raw = HeaderValue(response.Headers, "Location");
            var problem = raw is null ? "without a Location header" : $"with an invalid Location header \"{raw}\"";
            throw new FeedFetchException($"GET {source}: HTTP {status} redirect {problem}", status, transient: false);
        }

        // RFC 9110 §10.2.2: Location may be a relative reference, resolved against the request URI.
        var next = location.IsAbsoluteUri ? location : new Uri(current, location);
        // A server must not be able to point us at a local file (or anything but the web).
        if (next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps)
        {
            throw new FeedFetchException(
                $"GET {source}: redirect to unsupported scheme \"{next.Scheme}\" ({next.OriginalString})", status, transient: false);
        }

        var hops = string.Join(" -> ", chain.Append(next).Select(u => u.AbsoluteUri));
        if (chain.Contains(next))
        {
            throw new FeedFetchException($"GET {source}: redirect loop: {hops}", status, transient: false);
        }

        if (chain.Count > options.MaxRedirects)
        {
            throw new FeedFetchException(
                $"GET {source}: too many redirects (more than {options.MaxRedirects}): {hops}", status, transient: false);
        }

        return next;
    }

    private async Task<FetchResult> ReadFileAsync(string path, string? etag, string? lastModified, CancellationToken ct)
    {
        var what = $"read {path}";
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FeedFetchException($"{what}: file not found", null, transient: false);
        }

        // Validators are taken before the read: if the file changes while we read it, the next fetch sees a newer
        // length or mtime and reads it again instead of wrongly reporting it unchanged.
        var mtime = info.LastWriteTimeUtc;
        var fileEtag = $"\"{info.Length:x}-{mtime.Ticks:x}\"";
        var fileLastModified = mtime.ToString("R", CultureInfo.InvariantCulture);

        // RFC 9110 §13.2.2: If-None-Match takes precedence; If-Modified-Since has one-second resolution.
        var unchanged = !string.IsNullOrEmpty(etag)
            ? etag == fileEtag
            : !string.IsNullOrEmpty(lastModified)
                && DateTimeOffset.TryParse(lastModified, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since)
                && mtime.AddTicks(-(mtime.Ticks % TimeSpan.TicksPerSecond)) <= since.UtcDateTime;
        if (unchanged)
        {
            return new FeedNotModified(null);
        }

        if (info.Length > options.MaxBytes)
        {
            throw new FeedFetchException(
                $"{what}: file exceeds the {FormatSize(options.MaxBytes)} size cap ({info.Length} bytes)", null, transient: false);
        }

        byte[] body;
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 4096, useAsync: true);
            body = await ReadCappedAsync(stream, $"{what}: file", ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FeedFetchException($"{what}: {e.Message}", null, transient: false, e);
        }

        return new FeedFetched(body, null, fileEtag, fileLastModified, new Uri(path).AbsoluteUri, null);
    }

    /// <summary>Reads to the end, failing as soon as the cap is passed (a chunked or compressed body declares no size).</summary>
    private async Task<byte[]> ReadCappedAsync(Stream stream, string what, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > options.MaxBytes)
            {
                throw new FeedFetchException(
                    $"{what} exceeds the {FormatSize(options.MaxBytes)} size cap (read more than {options.MaxBytes} bytes)",
                    null,
                    transient: false);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static string DescribeNetworkError(HttpRequestException e, Uri uri)
    {
        var detail = e.InnerException is SocketException socket ? socket.Message : e.Message;
        return e.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => $"DNS lookup of {uri.Host} failed ({detail})",
            HttpRequestError.ConnectionError => $"could not connect to {uri.Host}:{uri.Port} ({detail})",
            HttpRequestError.SecureConnectionError => $"TLS handshake with {uri.Host} failed ({detail})",
            HttpRequestError.ResponseEnded => $"{uri.Host} closed the connection before the response was complete",
            _ => $"request to {uri.Host} failed ({detail})",
        };
    }

    private static string? HeaderValue(HttpHeaders headers, string name)
    {
        // NonValidated: feeds often send malformed ETags (unquoted) or dates; we only echo them back.
        return headers.NonValidated.TryGetValues(name, out var values) ? string.Join(", ", values) : null;
    }

    private static string FormatSize(long bytes)
    {
        return bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MB"
            : bytes % 1024 == 0 ? $"{bytes / 1024} KB"
            : $"{bytes} bytes";
    }
}
