using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Insights.QueryApi.Stats;

namespace Insights.QueryApi.Tests.Support;

public static class Http
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<HttpResponseMessage> RequestAsync(this HttpClient client, string url, string? bearer = null, string? headerKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (headerKey is not null)
        {
            request.Headers.Add("X-Insights-Key", headerKey);
        }

        return await client.SendAsync(request, Ct);
    }

    /// <summary>A POST with a raw body (JSON or not: hostile bodies are the point of some tests).</summary>
    public static async Task<HttpResponseMessage> PostAsync(this HttpClient client, string url, string body, string? bearer = null, string? headerKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (headerKey is not null)
        {
            request.Headers.Add("X-Insights-Key", headerKey);
        }

        return await client.SendAsync(request, Ct);
    }

    public static async Task<StatsResponse> StatsAsync(this HttpClient client, string query, string site = TestSites.Shop, string key = TestSites.ShopRead)
    {
        using var response = await client.RequestAsync($"/v1/sites/{site}/stats{query}", bearer: key);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<StatsResponse>(body, Json)!;
    }

    /// <summary>Asserts an RFC 7807 problem response with the status and returns its JSON.</summary>
    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonSerializer.Deserialize<JsonElement>(body);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        return problem;
    }

    public static string Reason(this JsonElement problem) => problem.GetProperty("reason").GetString()!;

    public static Task<T?> ReadJsonAsync<T>(this HttpResponseMessage response) => response.Content.ReadFromJsonAsync<T>(Json, Ct);
}
