using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Insights.Dashboards.BrowserTests;

/// <summary>
/// A person talking to the query API directly, as a script would: the session cookie, the CSRF header once fetched.
/// The tests use it to set accounts up and to read the numbers the dashboard must show.
/// </summary>
public sealed class ApiPerson : IDisposable
{
    private readonly HttpClient http;

    public ApiPerson(Uri query) =>
        http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = query, Timeout = TimeSpan.FromSeconds(60) };

    public async Task CsrfAsync()
    {
        var csrf = await JsonAsync(HttpMethod.Get, "/v1/auth/csrf");
        http.DefaultRequestHeaders.Remove(csrf.GetProperty("headerName").GetString()!);
        http.DefaultRequestHeaders.Add(csrf.GetProperty("headerName").GetString()!, csrf.GetProperty("token").GetString());
    }

    public Task<JsonElement> GetAsync(string path) => JsonAsync(HttpMethod.Get, path);

    public async Task<JsonElement> JsonAsync(HttpMethod method, string path, object? body = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonSerializer.Deserialize<JsonElement>(text);
    }

    /// <summary>The raw answer, whatever its status (for endpoints an older API may not have, and refusals).</summary>
    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, IDictionary<string, string>? headers = null)
    {
        var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Add(name, value);
        }

        return http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public void Dispose() => http.Dispose();
}

/// <summary>A site's back end sending events with its server key (which may name the visitor's IP, so companies appear).</summary>
public static class Events
{
    public const string PersonsChrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    /// <summary>Page views of one visitor, one per path, a few seconds apart, ending now; all accepted or the test fails.</summary>
    public static async Task PageViewsAsync(Uri ingest, string serverKey, string visitor, string ip, params string[] paths)
    {
        var start = DateTimeOffset.UtcNow.AddSeconds(-5 * paths.Length);
        var batch = paths.Select((path, i) => new
        {
            type = "pageview",
            messageId = $"{visitor}-{Guid.NewGuid():N}",
            anonymousId = visitor,
            timestamp = start.AddSeconds(5 * i),
            context = new
            {
                ip,
                page = new { url = $"https://shop.example{path}", path, title = $"Shop {path}" },
                userAgent = PersonsChrome,
            },
        }).ToArray();
        await SendAsync(ingest, serverKey, batch);
    }

    /// <summary>
    /// A batch of events (objects as the API takes them) with <paramref name="serverKey"/>; all accepted or the test fails.
    /// A client's keys reach ingest with its next catalog refresh (every second, later on a loaded machine): an unknown
    /// key is retried for a while, as a shop's first call would be.
    /// </summary>
    public static async Task SendAsync(Uri ingest, string serverKey, object batch)
    {
        using var http = new HttpClient { BaseAddress = ingest, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Add("X-Insights-Key", serverKey);
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            using var response = await http.PostAsJsonAsync("/v1/events", batch, TestContext.Current.CancellationToken);
            if (response.StatusCode == HttpStatusCode.Unauthorized && DateTime.UtcNow < until)
            {
                await Task.Delay(250, TestContext.Current.CancellationToken);
                continue;
            }

            Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            return;
        }
    }
}
