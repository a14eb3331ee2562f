using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Insights.QueryApi.Tests.Support;

/// <summary>A Server-Sent Event as a browser's parser sees it; <see cref="Id"/> for the site stream's numeric ids.</summary>
public sealed record SseEvent(string RawId, string Event, JsonElement Data)
{
    public long Id => long.Parse(RawId, CultureInfo.InvariantCulture);
}

public static class Sse
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
}

/// <summary>Reads Server-Sent Events as a browser's parser would: fields until a blank line; comments counted.</summary>
public sealed class SseReader(HttpClient client, HttpRequestMessage request, HttpResponseMessage response, Stream body) : IAsyncDisposable
{
    private readonly StreamReader reader = new(body, Encoding.UTF8);
    private Task<string?>? pending;

    public int Heartbeats { get; private set; }

    public async Task<SseEvent> NextAsync() => await NextAsync(Sse.Wait) ?? throw new TimeoutException("no event within " + Sse.Wait);

    public async Task<SseEvent?> NextAsync(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        var (id, name, data) = ("", "message", new StringBuilder());
        while (true)
        {
            pending ??= reader.ReadLineAsync(TestContext.Current.CancellationToken).AsTask();
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || await Task.WhenAny(pending, Task.Delay(left, TestContext.Current.CancellationToken)) != pending)
            {
                return null;
            }

            var line = await pending;
            pending = null;
            switch (line)
            {
                case null:
                    throw new InvalidOperationException("the stream ended");
                case "" when data.Length > 0:
                    return new SseEvent(id, name, JsonDocument.Parse(data.ToString()).RootElement.Clone());
                case "":
                    continue;
                case var comment when comment.StartsWith(':'):
                    Heartbeats++;
                    continue;
                case var field when field.StartsWith("id: ", StringComparison.Ordinal):
                    id = field[4..];
                    continue;
                case var field when field.StartsWith("event: ", StringComparison.Ordinal):
                    name = field[7..];
                    continue;
                case var field when field.StartsWith("data: ", StringComparison.Ordinal):
                    data.Append(field[6..]);
                    continue;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        reader.Dispose();
        response.Dispose();
        request.Dispose();
        client.Dispose();
        await Task.CompletedTask;
    }
}

public static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not true within {within}");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}
