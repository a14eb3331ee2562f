using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Insights.QueryApi.Tests.Support;

/// <summary>One POST as the receiver got it: path, headers and the raw body bytes (what a signature covers).</summary>
public sealed record ReceivedAlert(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// A real HTTP receiver (Kestrel on 127.0.0.1, a free port) standing where a customer's webhook endpoint or Slack would:
/// records every request and answers as <see cref="Answers"/> says (status, or a delay longer than the sender waits).
/// </summary>
public sealed class AlertReceiver : IAsyncDisposable
{
    private readonly WebApplication app;

    private AlertReceiver(WebApplication app) => this.app = app;

    public ConcurrentQueue<ReceivedAlert> Received { get; } = new();

    /// <summary>What requests to a path get: a status code, and a delay before it (a timeout test makes it long). Default 200 at once.</summary>
    public ConcurrentDictionary<string, (int Status, TimeSpan Delay)> Answers { get; } = new(StringComparer.Ordinal);

    public Uri Address { get; private set; } = null!;

    public string Url(string path) => new Uri(Address, path).ToString();

    public static async Task<AlertReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new AlertReceiver(app);
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            receiver.Received.Enqueue(new ReceivedAlert(context.Request.Path, context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(),
                StringComparer.OrdinalIgnoreCase), body.ToArray()));
            var (status, delay) = receiver.Answers.GetValueOrDefault(context.Request.Path.Value ?? "", (200, TimeSpan.Zero));
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, context.RequestAborted);
            }

            context.Response.StatusCode = status;
            await context.Response.WriteAsync(status >= 400 ? $"receiver says no ({status}) " + new string('x', 10_000) : "ok", context.RequestAborted);
        });
        await app.StartAsync(Http.Ct);
        receiver.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return receiver;
    }

    /// <summary>Waits until at least <paramref name="count"/> requests arrived (or fails after <paramref name="seconds"/>).</summary>
    public async Task<List<ReceivedAlert>> WaitForAsync(int count, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (Received.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the receiver got {Received.Count} requests, expected {count}, within {seconds} s");
            await Task.Delay(50, Http.Ct);
        }

        return [.. Received];
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
    }
}
