using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using Insights.DevStack.Testing;
using Insights.Ingest.Tracker;
using Microsoft.Extensions.DependencyInjection;

namespace Insights.Ingest.Tests.Integration;

/// <summary>One host for the tracker's endpoint (it never touches Kafka).</summary>
public sealed class TrackerHost(DevStackFixture stack) : IAsyncLifetime
{
    public IngestHost Host { get; private set; } = null!;

    public ValueTask InitializeAsync()
    {
        Host = IngestHost.Start(stack.KafkaBootstrap);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}

/// <summary><c>GET /t.js</c>: what browsers, CDNs and tag managers see.</summary>
public sealed class TrackerEndpointTests(TrackerHost fixture) : IClassFixture<TrackerHost>
{
    private IngestHost Host => fixture.Host;

    private TrackerScript Script => Host.Services.GetRequiredService<TrackerScript>();

    [Fact]
    public async Task The_script_is_javascript_any_page_may_load_and_caches_for_a_day()
    {
        using var response = await GetAsync("/t.js");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Equal(Script.Identity, await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal("*", Single(response, "Access-Control-Allow-Origin"));
        Assert.Equal("cross-origin", Single(response, "Cross-Origin-Resource-Policy"));
        Assert.Equal("nosniff", Single(response, "X-Content-Type-Options"));
        Assert.Equal(TimeSpan.FromDays(1), response.Headers.CacheControl?.MaxAge);
        Assert.True(response.Headers.CacheControl?.Public);
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        Assert.Equal($"\"{Script.Version}\"", response.Headers.ETag?.Tag);
    }

    [Fact]
    public async Task The_invitation_script_is_served_beside_the_tracker_the_same_way()
    {
        var invite = Host.Services.GetRequiredKeyedService<TrackerScript>(TrackerScript.Invitations);
        using var response = await GetAsync("/invite.js", request => request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.Equal(invite.Gzip, await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        Assert.Equal("*", Single(response, "Access-Control-Allow-Origin"));
        Assert.Equal($"\"{invite.Version}-gzip\"", response.Headers.ETag?.Tag);
        Assert.NotEqual(Script.Version, invite.Version);

        using var pinned = await GetAsync($"/invite.js?v={invite.Version}");
        Assert.True(pinned.Headers.CacheControl?.Extensions.Any(e => e.Name == "immutable"));
    }

    [Theory]
    [InlineData("br", "br")]
    [InlineData("gzip, deflate, br, zstd", "br")]
    [InlineData("gzip", "gzip")]
    [InlineData("br;q=0.5, gzip", "gzip")]
    [InlineData("br;q=0, *", "gzip")]
    [InlineData("*", "br")]
    [InlineData("deflate", null)]
    [InlineData("gzip;q=0", null)]
    [InlineData("identity", null)]
    [InlineData(";;;q=zz,,, garbage=, br;q=abc", null)]
    public async Task The_script_comes_compressed_as_the_browser_accepts(string acceptEncoding, string? expected)
    {
        using var response = await GetAsync("/t.js", request => request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        Assert.Equal(expected, response.Content.Headers.ContentEncoding.SingleOrDefault());
        var script = expected switch
        {
            "br" => Decompress(body, s => new BrotliStream(s, CompressionMode.Decompress)),
            "gzip" => Decompress(body, s => new GZipStream(s, CompressionMode.Decompress)),
            _ => body,
        };
        Assert.Equal(Script.Identity, script);
        Assert.True(body.Length <= (expected is null ? Script.Identity.Length : TrackerScript.GzipBudgetBytes));
    }

    [Fact]
    public async Task A_browser_holding_the_current_script_gets_304_without_a_body()
    {
        using var first = await GetAsync("/t.js", request => request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip"));
        var tag = first.Headers.ETag!;
        Assert.Equal($"\"{Script.Version}-gzip\"", tag.Tag);

        using var again = await GetAsync("/t.js", request =>
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");
            request.Headers.IfNoneMatch.Add(tag);
        });
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.Empty(await again.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));

        // An old version's tag is not the current script: the browser gets the new one.
        using var stale = await GetAsync("/t.js", request => request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"an-old-version\"")));
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
    }

    [Fact]
    public async Task A_url_naming_the_current_version_is_cached_for_good_and_any_other_for_a_day()
    {
        using var pinned = await GetAsync($"/t.js?v={Script.Version}");
        Assert.Equal(TimeSpan.FromDays(365), pinned.Headers.CacheControl?.MaxAge);
        Assert.Contains(pinned.Headers.CacheControl!.Extensions, e => e.Name == "immutable");

        using var old = await GetAsync("/t.js?v=an-old-version");
        Assert.Equal(HttpStatusCode.OK, old.StatusCode);
        Assert.Equal(TimeSpan.FromDays(1), old.Headers.CacheControl?.MaxAge);
        Assert.DoesNotContain(old.Headers.CacheControl!.Extensions, e => e.Name == "immutable");
    }

    [Fact]
    public async Task Head_answers_the_headers_and_other_methods_are_refused()
    {
        using var head = await Host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/t.js"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(Script.Identity.Length, head.Content.Headers.ContentLength);

        using var post = await Host.Client.PostAsync(new Uri("/t.js", UriKind.Relative), new StringContent("x"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    private async Task<HttpResponseMessage> GetAsync(string path, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        configure?.Invoke(request);
        return await Host.Client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static string Single(HttpResponseMessage response, string header) =>
        Assert.Single(response.Headers.TryGetValues(header, out var values) ? values : response.Content.Headers.GetValues(header));

    private static byte[] Decompress(byte[] data, Func<Stream, Stream> decompressor)
    {
        using var output = new MemoryStream();
        using (var stream = decompressor(new MemoryStream(data)))
        {
            stream.CopyTo(output);
        }

        return output.ToArray();
    }
}
