using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Insights.Dashboards.Api;

/// <summary>
/// The app's one way to the query API: typed calls for the pages, each forwarding the signed-in person's API session
/// (taken from the app's cookie via the authentication state, in a static render and in an interactive circuit alike).
/// Errors become <see cref="ApiException"/>; a 401 <see cref="ApiSignInRequiredException"/>.
/// </summary>
public sealed class QueryApiClient(HttpClient http, AuthenticationStateProvider authentication, IOptions<DashboardOptions> options, ILogger<QueryApiClient> logger)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Names of the API's CSRF header and token (GET /v1/auth/csrf answers { headerName, token }).
    private sealed record CsrfToken(string HeaderName, string Token);

    // Errors: what a 400 invalid_parameters names field by field; its messages say more than "Fix: settings.".
    // Read loosely (any JSON), so an unexpected shape never costs the reason.
    private sealed record Problem(string? Reason, string? Detail, string? Title, JsonElement? Errors = null)
    {
        public string? Explained => Errors is { ValueKind: JsonValueKind.Object } errors
            && errors.EnumerateObject().SelectMany(e => e.Value.ValueKind == JsonValueKind.Array ? [.. e.Value.EnumerateArray()] : new[] { e.Value })
                .Where(m => m.ValueKind == JsonValueKind.String).Select(m => m.GetString()).Take(5).ToList() is { Count: > 0 } messages
            ? string.Join("; ", messages)
            : Detail;
    }

    public static string Path(string template, params string[] segments) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, template, [.. segments.Select(Uri.EscapeDataString)]);

    /// <summary><paramref name="path"/> with the given query parameters, the empty ones left out.</summary>
    public static string WithQuery(string path, IEnumerable<KeyValuePair<string, string?>> parameters) =>
        QueryHelpers.AddQueryString(path, parameters.Where(p => !string.IsNullOrEmpty(p.Value)));

    // ---- sign-in (no session yet: explicit cookies) ----

    public async Task<SignInResult> SignInAsync(string email, string password, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/sign-in") { Content = JsonContent.Create(new { email, password }, options: Json) };
        using var response = await SendAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            var person = await response.Content.ReadFromJsonAsync<SignedInPerson>(Json, cancellationToken);
            return new SignInResult(person, ApiSession.FromSetCookie(response), null, null);
        }

        var problem = await ProblemAsync(response, cancellationToken);
        return new SignInResult(null, null, problem.Reason ?? "sign_in_failed", response.Headers.RetryAfter?.Delta);
    }

    /// <summary>Ends the API session behind <paramref name="cookies"/> (best effort: the app's own cookie is removed either way).</summary>
    public async Task SignOutAsync(string cookies, CancellationToken cancellationToken)
    {
        try
        {
            await PostAsync("/v1/auth/sign-out", null, cookies, cancellationToken);
        }
        catch (ApiException)
        {
            // Already ended (401) or unreachable: nothing the person can do about it.
        }
    }

    // ---- reads ----

    public Task<Me> MeAsync(CancellationToken cancellationToken) => GetAsync<Me>("/v1/me", cancellationToken);

    public Task<StatsReport> StatsAsync(string site, IEnumerable<KeyValuePair<string, string?>> query, CancellationToken cancellationToken) =>
        GetAsync<StatsReport>(WithQuery(Path("/v1/sites/{0}/stats", site), query), cancellationToken);

    public Task<CompaniesReport> CompaniesAsync(string site, IEnumerable<KeyValuePair<string, string?>> query, CancellationToken cancellationToken) =>
        GetAsync<CompaniesReport>(WithQuery(Path("/v1/sites/{0}/companies", site), query), cancellationToken);

    public Task<CompanyReport> CompanyAsync(string site, string company, IEnumerable<KeyValuePair<string, string?>> query, CancellationToken cancellationToken) =>
        GetAsync<CompanyReport>(WithQuery(Path("/v1/sites/{0}/companies/{1}", site, company), query), cancellationToken);

    public Task<LiveSnapshot> LiveAsync(string site, CancellationToken cancellationToken) =>
        GetAsync<LiveSnapshot>(Path("/v1/sites/{0}/live", site), cancellationToken);

    public Task<PartnerLiveSnapshot> PartnerLiveAsync(string partner, CancellationToken cancellationToken) =>
        GetAsync<PartnerLiveSnapshot>(Path("/v1/partners/{0}/live", partner), cancellationToken);

    public Task<PartnerRevenueReport> PartnerRevenueAsync(string partner, IEnumerable<KeyValuePair<string, string?>> query, CancellationToken cancellationToken) =>
        GetAsync<PartnerRevenueReport>(WithQuery(Path("/v1/partners/{0}/revenue", partner), query), cancellationToken);

    /// <summary>Any report as JSON into the caller's record: pages added later read their endpoints through this.</summary>
    public async Task<T> GetAsync<T>(string pathAndQuery, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        request.Headers.Add("Cookie", await CookiesAsync());
        using var response = await SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(request, response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
            ?? throw new ApiException(502, "empty_response", pathAndQuery);
    }

    // ---- changes (CSRF token first, as the API asks of cookie sessions) ----

    /// <summary>POST (or <paramref name="method"/>) a JSON body as the signed-in person; the answer's JSON, or default when it has none.</summary>
    public async Task<JsonElement?> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken) =>
        await ChangeAsync(method, path, body, await CookiesAsync(), cancellationToken);

    public async Task<JsonElement?> PostAsync(string path, object? body, string cookies, CancellationToken cancellationToken) =>
        await ChangeAsync(HttpMethod.Post, path, body, cookies, cancellationToken);

    private async Task<JsonElement?> ChangeAsync(HttpMethod method, string path, object? body, string cookies, CancellationToken cancellationToken)
    {
        using var csrfRequest = new HttpRequestMessage(HttpMethod.Get, "/v1/auth/csrf");
        csrfRequest.Headers.Add("Cookie", cookies);
        using var csrfResponse = await SendAsync(csrfRequest, cancellationToken);
        await EnsureSuccessAsync(csrfRequest, csrfResponse, cancellationToken);
        var csrf = await csrfResponse.Content.ReadFromJsonAsync<CsrfToken>(Json, cancellationToken) ?? throw new ApiException(502, "empty_response", "csrf");

        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Cookie", ApiSession.FromSetCookie(csrfResponse, cookies));
        request.Headers.Add(csrf.HeaderName, csrf.Token);
        request.Content = body is null ? new StringContent("{}", Encoding.UTF8, "application/json") : JsonContent.Create(body, options: Json);
        using var response = await SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(request, response, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return text.Length == 0 ? null : JsonSerializer.Deserialize<JsonElement>(text);
    }

    // ---- live streams ----

    /// <summary>
    /// A Server-Sent Events stream (<c>/v1/sites/{s}/live/stream</c>, <c>/v1/partners/{p}/live/stream</c>) as events,
    /// until it ends or <paramref name="cancellationToken"/> fires. Resumes after <paramref name="lastEventId"/> when given.
    /// </summary>
    public async IAsyncEnumerable<ServerSentEvent> StreamAsync(string path, string? lastEventId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", await CookiesAsync());
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (!string.IsNullOrEmpty(lastEventId))
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var response = await SendAsync(request, cancellationToken, HttpCompletionOption.ResponseHeadersRead, timeout: false);
        await EnsureSuccessAsync(request, response, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? id = null, name = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    yield return new ServerSentEvent(id, name ?? "message", data.ToString());
                }

                (name, id) = (null, null);
                data.Clear();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Append(data.Length > 0 ? "\n" : "").Append(line.AsSpan(5).TrimStart(' '));
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                name = line[6..].Trim();
            }
            else if (line.StartsWith("id:", StringComparison.Ordinal))
            {
                id = line[3..].Trim();
            }
        }
    }

    // ---- plumbing ----

    private async Task<string> CookiesAsync()
    {
        ClaimsPrincipal user = (await authentication.GetAuthenticationStateAsync()).User;
        return ApiSession.Cookies(user) ?? throw new ApiSignInRequiredException("sign_in_required");
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead, bool timeout = true)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout)
        {
            deadline.CancelAfter(TimeSpan.FromSeconds(options.Value.RequestTimeoutSeconds));
        }

        try
        {
            return await http.SendAsync(request, completion, timeout ? deadline.Token : cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            logger.ApiUnreachable(request.Method.Method, request.RequestUri?.AbsolutePath ?? "", e);
            throw new ApiException(503, "query_api_unreachable");
        }
    }

    private async Task EnsureSuccessAsync(HttpRequestMessage request, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var problem = await ProblemAsync(response, cancellationToken);
        var reason = problem.Reason ?? "http_" + ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            throw new ApiSignInRequiredException(reason);
        }

        logger.ApiFailed((int)response.StatusCode, reason, request.Method.Method, request.RequestUri?.AbsolutePath ?? "");
        throw new ApiException((int)response.StatusCode, reason, problem.Explained ?? problem.Title);
    }

    private static async Task<Problem> ProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<Problem>(Json, cancellationToken) ?? new Problem(null, null, null);
        }
        catch (JsonException)
        {
            return new Problem(null, null, null);
        }
    }
}
