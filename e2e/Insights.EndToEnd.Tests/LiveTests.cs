using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Insights.EndToEnd.Tests;

/// <summary>The live path through the three processes: a page view sent to ingest reaches an agent's stream.</summary>
public sealed class LiveTests(SystemFixture system)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_visitor_sent_to_ingest_joins_the_live_stream_and_a_page_change_follows()
    {
        var visitor = $"live-{Guid.NewGuid():N}";
        using var query = new HttpClient { BaseAddress = system.QueryApi.Address, Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/sites/{SystemFixture.Site}/live/stream");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SystemFixture.ReadKey);
        using var response = await SendWhenReadyAsync(query, request);
        using var stream = new StreamReader(await response.Content.ReadAsStreamAsync(Ct), Encoding.UTF8);

        var sent = Stopwatch.StartNew();
        await SendAsync(visitor, "/pricing");
        var joined = await NextForAsync(stream, visitor, "visitor_joined");
        var latency = sent.Elapsed;
        Assert.Equal("visitor_joined", joined.Event);
        Assert.Equal("/pricing", joined.Data.GetProperty("page").GetProperty("path").GetString());

        await SendAsync(visitor, "/contact");
        var moved = await NextForAsync(stream, visitor, "page_changed");
        Assert.Equal("page_changed", moved.Event);
        Assert.Equal("/contact", moved.Data.GetProperty("page").GetProperty("path").GetString());
        Assert.True(moved.Id > joined.Id);
        TestContext.Current.TestOutputHelper?.WriteLine($"ingest 202 → SSE visitor_joined: {latency.TotalMilliseconds:F0} ms");

        using var snapshot = await query.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/sites/{SystemFixture.Site}/live?page=/contact")
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", SystemFixture.ReadKey) },
        }, Ct);
        var body = JsonDocument.Parse(await snapshot.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Contains(body.GetProperty("visitors").EnumerateArray(), v => v.GetProperty("visitorId").GetString() == visitor);
    }

    // Presence answers 503 live_starting while it rebuilds at start.
    private static async Task<HttpResponseMessage> SendWhenReadyAsync(HttpClient client, HttpRequestMessage request)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            using var copy = new HttpRequestMessage(request.Method, request.RequestUri);
            copy.Headers.Authorization = request.Headers.Authorization;
            var response = await client.SendAsync(copy, HttpCompletionOption.ResponseHeadersRead, Ct);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                return response;
            }

            response.Dispose();
            await Task.Delay(250, Ct);
        }
    }

    private async Task SendAsync(string visitor, string path)
    {
        using var ingest = new HttpClient { BaseAddress = system.Ingest.Address };
        var body = JsonSerializer.Serialize(new
        {
            type = "pageview",
            messageId = Guid.NewGuid().ToString(),
            anonymousId = visitor,
            context = new { page = new { url = $"https://shop.example{path}", path, title = "Live E2E" } },
        });
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = content };
        message.Headers.Add("X-Insights-Key", SystemFixture.WriteKey);
        using var response = await ingest.SendAsync(message, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private sealed record SseEvent(long Id, string Event, JsonElement Data);

    // The next stream event of this name about this visitor (other tests' visitors share the site, and updates such as
    // the visit count looked up after joining come in between); heartbeats and everything else skipped.
    private static async Task<SseEvent> NextForAsync(StreamReader reader, string visitor, string eventName)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var (id, name, data) = (0L, "", new StringBuilder());
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    var json = JsonDocument.Parse(data.ToString()).RootElement.Clone();
                    if (name == eventName && json.TryGetProperty("visitorId", out var who) && who.GetString() == visitor)
                    {
                        return new SseEvent(id, name, json);
                    }
                }

                (name, data) = ("", data.Clear());
            }
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Append(line[6..]);
            }
        }

        throw new InvalidOperationException("the stream ended");
    }
}
