using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Insights.Ingest.BrowserTests;

/// <summary>
/// The customer's website: a Kestrel on another loopback port (another origin than ingest, as in production) serving
/// the pages tests register, plus event sinks that answer as a failing ingest would.
/// </summary>
public sealed class SiteServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, string> pages = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FlakySink> sinks = new(StringComparer.Ordinal);
    private WebApplication app = null!;

    public string Origin { get; private set; } = "";

    public static async Task<SiteServer> StartAsync()
    {
        var server = new SiteServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/{**path}", (string? path) => server.pages.TryGetValue("/" + path, out var html)
            ? Results.Content(html, "text/html; charset=utf-8")
            : Results.NotFound());
        app.MapPost("/sinks/{name}/v1/events", async (string name, HttpRequest request) =>
            server.sinks.TryGetValue(name, out var sink) ? await sink.AnswerAsync(request) : Results.NotFound());
        await app.StartAsync();
        server.app = app;
        server.Origin = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    /// <summary>Serves <paramref name="html"/> at <paramref name="path"/> and returns the page's URL.</summary>
    public string AddPage(string path, string html)
    {
        pages[path] = html;
        return Origin + path;
    }

    /// <summary>An endpoint at <c>{returned base}/v1/events</c> that answers the given statuses in turn, then 202.</summary>
    public (string BaseUrl, FlakySink Sink) AddSink(params int[] statuses) => AddSinkRetryingAfter(1, statuses);

    /// <summary>The same, its 503 and 429 saying <c>Retry-After: retryAfterSeconds</c>.</summary>
    public (string BaseUrl, FlakySink Sink) AddSinkRetryingAfter(int retryAfterSeconds, params int[] statuses)
    {
        var name = Guid.NewGuid().ToString("N");
        var sink = new FlakySink(statuses, retryAfterSeconds);
        sinks[name] = sink;
        return ($"{Origin}/sinks/{name}", sink);
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}

/// <summary>An ingest stand-in that refuses with the given statuses (503 and 429 say Retry-After) before accepting.</summary>
public sealed class FlakySink(int[] statuses, int retryAfterSeconds)
{
    private readonly List<(int Status, string Body)> requests = [];

    /// <summary>Every request so far: the status it got and the body it carried.</summary>
    public List<(int Status, string Body)> Requests
    {
        get
        {
            lock (requests)
            {
                return [.. requests];
            }
        }
    }

    private int answered;

    /// <summary>Whether it refuses everything with 503 (as ingest's back-pressure does while the processors are far
    /// behind), whatever the statuses say; they count only the requests answered while open.</summary>
    public bool Closed { get; set; }

    internal async Task<IResult> AnswerAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync();
        int status;
        lock (requests)
        {
            status = Closed ? StatusCodes.Status503ServiceUnavailable
                : answered < statuses.Length ? statuses[answered++] : StatusCodes.Status202Accepted;
            requests.Add((status, body));
        }

        if (status is StatusCodes.Status503ServiceUnavailable or StatusCodes.Status429TooManyRequests)
        {
            request.HttpContext.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return Results.Text("{}", "application/json", statusCode: status);
    }
}
