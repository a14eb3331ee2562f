using System.Text;
using System.Text.Json;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// Who may say and read what: every ingest and query-API endpoint × every kind of key → the documented answer (status
/// code and machine-readable <c>reason</c>), over real HTTP against the services running as processes.
/// </summary>
public sealed class AccessMatrixTests(SystemFixture system)
{
    /// <summary>What a request is: an endpoint and, for <c>/v1/events</c>, what the body carries.</summary>
    public enum Call
    {
        // POST /v1/events
        PageView,
        Identify,
        Order,
        ChatStarted,
        PageViewAndOrder,
        PageViewAndChat,

        // POST /v1/webhooks/{platform}/{site}, without the platform's secret or signature unless the key says so
        LiveChat,
        LiveChatOtherSite,
        Shopify,
        WooCommerce,

        // GET /t.js
        Tracker,

        // Query API, /v1/sites/demo/...
        Stats,
        Companies,
        Company,
        Visitor,
        Sales,
        Goals,
        OrderPath,
        SubjectsExport,
        SubjectsErase,
        InvitationFunnel,

        // Agents' actions: people only, no key ever
        InviteVisitor,
    }

    /// <summary>The credential a request carries, and where: in the <c>X-Insights-Key</c> header unless named "InUrl" (<c>?key=</c>).</summary>
    public enum Key
    {
        Write,
        Server,
        Read,
        OtherSiteWrite,
        OtherSiteRead,
        Unknown,
        None,
        WriteInUrl,
        ServerInUrl,
        ReadInUrl,

        /// <summary>The demo site's LiveChat secret in the webhook body (webhooks only).</summary>
        WebhookSecret,
    }

    /// <summary>
    /// The documented answers: status, and <c>reason</c> — of the refusal for a 4xx, or of the refused event of a 202
    /// that accepted the others (null: every event accepted; for other 2xx answers always null).
    /// Other site: the load-test site of the demo seed (control-plane/demo/demo-sites.json). Unknown ids (companies, visitors, orders) are well-formed
    /// ids nothing stored, so the read key's answer is the endpoint's own 404, past the key check.
    /// A secret (server or read) key in the URL is refused by both services with <c>secret_key_in_url</c>; a write key
    /// there is accepted only by ingest (sendBeacon).
    /// </summary>
    public static readonly TheoryData<Call, Key, int, string?> Answers = new()
    {
        // POST /v1/events: the key names the site; write keys may send page views, custom events and identify.
        { Call.PageView, Key.Write, 202, null },
        { Call.PageView, Key.Server, 202, null },
        { Call.PageView, Key.Read, 403, "key_cannot_write" },
        { Call.PageView, Key.OtherSiteWrite, 202, null }, // accepted for the other site: its key, its data
        { Call.PageView, Key.OtherSiteRead, 403, "key_cannot_write" },
        { Call.PageView, Key.Unknown, 401, "unknown_key" },
        { Call.PageView, Key.None, 401, "missing_key" },
        { Call.PageView, Key.WriteInUrl, 202, null }, // navigator.sendBeacon cannot set headers
        { Call.PageView, Key.ServerInUrl, 401, "secret_key_in_url" },
        { Call.PageView, Key.ReadInUrl, 401, "secret_key_in_url" },
        { Call.Identify, Key.Write, 202, null },
        { Call.Identify, Key.Server, 202, null },
        { Call.Identify, Key.Read, 403, "key_cannot_write" },
        { Call.Identify, Key.None, 401, "missing_key" },

        // Orders and chats need a server key (or a verified webhook).
        { Call.Order, Key.Write, 400, "needs_server_key" },
        { Call.Order, Key.Server, 202, null },
        { Call.Order, Key.Read, 403, "key_cannot_write" },
        { Call.Order, Key.OtherSiteWrite, 400, "needs_server_key" },
        { Call.Order, Key.OtherSiteRead, 403, "key_cannot_write" },
        { Call.Order, Key.Unknown, 401, "unknown_key" },
        { Call.Order, Key.None, 401, "missing_key" },
        { Call.Order, Key.WriteInUrl, 400, "needs_server_key" },
        { Call.Order, Key.ServerInUrl, 401, "secret_key_in_url" },
        { Call.ChatStarted, Key.Write, 400, "needs_server_key" },
        { Call.ChatStarted, Key.Server, 202, null },
        { Call.ChatStarted, Key.Read, 403, "key_cannot_write" },
        { Call.ChatStarted, Key.OtherSiteWrite, 400, "needs_server_key" },
        { Call.ChatStarted, Key.None, 401, "missing_key" },
        { Call.PageViewAndOrder, Key.Write, 202, "needs_server_key" },
        { Call.PageViewAndOrder, Key.Server, 202, null },
        { Call.PageViewAndOrder, Key.None, 401, "missing_key" },
        { Call.PageViewAndChat, Key.Write, 202, "needs_server_key" },
        { Call.PageViewAndChat, Key.Server, 202, null },
        { Call.PageViewAndChat, Key.None, 401, "missing_key" },

        // Webhooks: no key opens them, only the platform's secret (LiveChat, in the body) or signature (shops).
        { Call.LiveChat, Key.Write, 401, "missing_secret" },
        { Call.LiveChat, Key.Server, 401, "missing_secret" },
        { Call.LiveChat, Key.Read, 401, "missing_secret" },
        { Call.LiveChat, Key.None, 401, "missing_secret" },
        { Call.LiveChat, Key.ServerInUrl, 401, "missing_secret" },
        { Call.LiveChat, Key.WebhookSecret, 202, null },
        { Call.LiveChatOtherSite, Key.WebhookSecret, 404, "integration_off" }, // one site's secret opens nothing of another
        { Call.LiveChatOtherSite, Key.None, 404, "integration_off" },
        { Call.Shopify, Key.Write, 401, "missing_signature" },
        { Call.Shopify, Key.Server, 401, "missing_signature" },
        { Call.Shopify, Key.Read, 401, "missing_signature" },
        { Call.Shopify, Key.None, 401, "missing_signature" },
        { Call.WooCommerce, Key.Write, 401, "missing_signature" },
        { Call.WooCommerce, Key.Server, 401, "missing_signature" },
        { Call.WooCommerce, Key.Read, 401, "missing_signature" },
        { Call.WooCommerce, Key.None, 401, "missing_signature" },

        // The tracker script is public.
        { Call.Tracker, Key.None, 200, null },
        { Call.Tracker, Key.Write, 200, null },

        // Query API reports: read keys of the site only; write and server keys send, never read.
        { Call.Stats, Key.Read, 200, null },
        { Call.Stats, Key.Write, 403, "key_cannot_read" },
        { Call.Stats, Key.Server, 403, "key_cannot_read" },
        { Call.Stats, Key.OtherSiteRead, 404, "site_not_found" },
        { Call.Stats, Key.OtherSiteWrite, 403, "key_cannot_read" },
        { Call.Stats, Key.Unknown, 401, "unknown_key" },
        { Call.Stats, Key.None, 401, "missing_key" },
        { Call.Stats, Key.ReadInUrl, 401, "secret_key_in_url" },
        { Call.Stats, Key.ServerInUrl, 401, "secret_key_in_url" },
        { Call.Companies, Key.Read, 200, null },
        { Call.Companies, Key.Write, 403, "key_cannot_read" },
        { Call.Companies, Key.Server, 403, "key_cannot_read" },
        { Call.Companies, Key.OtherSiteRead, 404, "site_not_found" },
        { Call.Companies, Key.Unknown, 401, "unknown_key" },
        { Call.Companies, Key.None, 401, "missing_key" },
        { Call.Companies, Key.ReadInUrl, 401, "secret_key_in_url" },
        { Call.Company, Key.Read, 404, "company_not_found" },
        { Call.Company, Key.Write, 403, "key_cannot_read" },
        { Call.Company, Key.Server, 403, "key_cannot_read" },
        { Call.Company, Key.OtherSiteRead, 404, "site_not_found" },
        { Call.Company, Key.Unknown, 401, "unknown_key" },
        { Call.Company, Key.None, 401, "missing_key" },
        { Call.Company, Key.ReadInUrl, 401, "secret_key_in_url" },
        { Call.Visitor, Key.Read, 404, "visitor_not_found" },
        { Call.Visitor, Key.Write, 403, "key_cannot_read" },
        { Call.Visitor, Key.Server, 403, "key_cannot_read" },
        { Call.Visitor, Key.OtherSiteRead, 404, "site_not_found" },
        { Call.Visitor, Key.Unknown, 401, "unknown_key" },
        { Call.Visitor, Key.None, 401, "missing_key" },
        { Call.Visitor, Key.ReadInUrl, 401, "secret_key_in_url" },
        { Call.Sales, Key.Read, 200, null },
        { Call.Sales, Key.Write, 403, "key_cannot_read" },
        { Call.Sales, Key.Server, 403, "key_cannot_read" },
        { Call.Sales, Key.OtherSiteRead, 404, "site_not_found" },
        { Call.Sales, Key.Unknown, 401, "unknown_key" },
        { Call.Sales, Key.None, 401, "missing_key" },
        { Call.Sales, Key.ReadInUrl, 401, "secret_key_in_url" },
        { Call.Goals, Key.Read, 200, null },
        { Call.Goals, Key.Write, 403, "key_cannot_read" },
        { Call.Goals, Key.Server, 403, "key_cannot_read" },
        { Call.Goals, Key.OtherSiteRead, 404, "site_not_found" },
        { Call.Goals, Key.Unknown, 401, "unknown_key" },
        { Call.Goals, Key.None, 401, "missing_key" },
        { Call.Goals, Key.ReadInUrl, 401, "secret_key_in_url" },
        { Call.OrderPath, Key.Read, 404, "order_not_found" },
        { Call.OrderPath, Key.Write, 403, "key_cannot_read" },
        { Call.OrderPath, Key.Server, 403, "key_cannot_read" },
        { Call.OrderPath, Key.OtherSiteRead, 404, "site_not_found" },
        { Call.OrderPath, Key.Unknown, 401, "unknown_key" },
        { Call.OrderPath, Key.None, 401, "missing_key" },
        { Call.OrderPath, Key.ReadInUrl, 401, "secret_key_in_url" },

        // Personal data on request (export, erasure): the site's server key only.
        { Call.SubjectsExport, Key.Server, 200, null },
        { Call.SubjectsExport, Key.Read, 403, "server_key_required" },
        { Call.SubjectsExport, Key.Write, 403, "server_key_required" },
        { Call.SubjectsExport, Key.OtherSiteRead, 403, "server_key_required" },
        { Call.SubjectsExport, Key.Unknown, 401, "unknown_key" },
        { Call.SubjectsExport, Key.None, 401, "missing_key" },
        { Call.SubjectsExport, Key.ServerInUrl, 401, "secret_key_in_url" },
        { Call.SubjectsErase, Key.Server, 200, null },
        { Call.SubjectsErase, Key.Read, 403, "server_key_required" },
        { Call.SubjectsErase, Key.Write, 403, "server_key_required" },
        { Call.SubjectsErase, Key.OtherSiteRead, 403, "server_key_required" },
        { Call.SubjectsErase, Key.Unknown, 401, "unknown_key" },
        { Call.SubjectsErase, Key.None, 401, "missing_key" },
        { Call.SubjectsErase, Key.ServerInUrl, 401, "secret_key_in_url" },
        { Call.InvitationFunnel, Key.Read, 200, null },
        { Call.InvitationFunnel, Key.Write, 403, "key_cannot_read" },
        { Call.InvitationFunnel, Key.OtherSiteRead, 404, "site_not_found" },
        { Call.InvitationFunnel, Key.Unknown, 401, "unknown_key" },
        { Call.InvitationFunnel, Key.None, 401, "missing_key" },
        { Call.InvitationFunnel, Key.ReadInUrl, 401, "secret_key_in_url" },
        { Call.InviteVisitor, Key.Read, 403, "key_cannot_manage" },
        { Call.InviteVisitor, Key.Server, 403, "key_cannot_manage" },
        { Call.InviteVisitor, Key.Write, 403, "key_cannot_manage" },
        { Call.InviteVisitor, Key.Unknown, 401, "unknown_key" },
        { Call.InviteVisitor, Key.None, 401, "sign_in_required" },
        { Call.InviteVisitor, Key.ReadInUrl, 401, "secret_key_in_url" },
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Answers))]
    public async Task Each_endpoint_gives_each_kind_of_key_its_documented_answer(Call call, Key key, int status, string? reason)
    {
        var service = IsQueryApi(call) ? system.QueryApi : system.Ingest;
        using var http = new HttpClient { BaseAddress = service.Address, Timeout = TimeSpan.FromSeconds(30) };
        using var request = Request(call, key);
        using var response = await http.SendAsync(request, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);

        Assert.True(((int)response.StatusCode, ReasonOf(call, response, body)) == (status, reason),
            $"{request.Method} {request.RequestUri} with {key}: expected {status} {reason ?? "(no reason)"}, got {(int)response.StatusCode}: {body}");
    }

    [Fact]
    public void Every_endpoint_is_in_the_table_with_a_read_or_send_key_and_without_a_key()
    {
        var rows = Answers.Select(row => (row.Data.Item1, row.Data.Item2)).ToArray();
        foreach (var call in Enum.GetValues<Call>())
        {
            Assert.Contains(rows, r => r.Item1 == call && r.Item2 is Key.None or Key.WebhookSecret);
            Assert.True(rows.Count(r => r.Item1 == call) >= 2, $"{call} has fewer than two rows");
        }
    }

    private static bool IsQueryApi(Call call) => call >= Call.Stats;

    private static HttpRequestMessage Request(Call call, Key key)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var (method, path, json) = call switch
        {
            Call.PageView => (HttpMethod.Post, "/v1/events", PageView(id)),
            Call.Identify => (HttpMethod.Post, "/v1/events", $$$"""{"type":"identify","anonymousId":"m-{{{id}}}","userId":"user-{{{id}}}","traits":{"plan":"pro"}}"""),
            Call.Order => (HttpMethod.Post, "/v1/events", Order(id)),
            Call.ChatStarted => (HttpMethod.Post, "/v1/events", Chat(id)),
            Call.PageViewAndOrder => (HttpMethod.Post, "/v1/events", $"[{PageView(id)},{Order(id)}]"),
            Call.PageViewAndChat => (HttpMethod.Post, "/v1/events", $"[{PageView(id)},{Chat(id)}]"),
            Call.LiveChat => (HttpMethod.Post, "/v1/webhooks/livechat/demo", LiveChatIncomingChat(id, key == Key.WebhookSecret)),
            Call.LiveChatOtherSite => (HttpMethod.Post, "/v1/webhooks/livechat/loadtest", LiveChatIncomingChat(id, key == Key.WebhookSecret)),
            Call.Shopify => (HttpMethod.Post, "/v1/webhooks/shopify/demo", $$"""{"id":{{Random.Shared.Next(1, int.MaxValue)}},"total_price":"10.00","currency":"USD"}"""),
            Call.WooCommerce => (HttpMethod.Post, "/v1/webhooks/woocommerce/demo", $$"""{"id":{{Random.Shared.Next(1, int.MaxValue)}},"total":"10.00","currency":"USD"}"""),
            Call.Tracker => (HttpMethod.Get, "/t.js", null),
            Call.Stats => (HttpMethod.Get, "/v1/sites/demo/stats", null),
            Call.Companies => (HttpMethod.Get, "/v1/sites/demo/companies", null),
            Call.Company => (HttpMethod.Get, $"/v1/sites/demo/companies/no-such-company-{id[..8]}", null),
            Call.Visitor => (HttpMethod.Get, $"/v1/sites/demo/visitors/no-such-visitor-{id}", null),
            Call.Sales => (HttpMethod.Get, "/v1/sites/demo/sales", null),
            Call.Goals => (HttpMethod.Get, "/v1/sites/demo/goals", null),
            Call.OrderPath => (HttpMethod.Get, $"/v1/sites/demo/orders/no-such-order-{id}", null),
            Call.SubjectsExport => (HttpMethod.Post, "/v1/sites/demo/subjects/export", $$"""{"anonymousId":"no-such-person-{{id}}"}"""),
            Call.SubjectsErase => (HttpMethod.Post, "/v1/sites/demo/subjects/erase", $$"""{"anonymousId":"no-such-person-{{id}}"}"""),
            Call.InvitationFunnel => (HttpMethod.Get, "/v1/sites/demo/invitations/funnel", null),
            Call.InviteVisitor => (HttpMethod.Post, $"/v1/sites/demo/live/visitors/v-{id}/invite", """{"message":"Hallo"}"""),
            _ => throw new ArgumentOutOfRangeException(nameof(call), call, null),
        };

        var value = KeyValue(key);
        var inUrl = key is Key.WriteInUrl or Key.ServerInUrl or Key.ReadInUrl;
        var request = new HttpRequestMessage(method, new Uri(inUrl ? $"{path}?key={value}" : path, UriKind.Relative));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (value is not null && !inUrl && key != Key.WebhookSecret)
        {
            request.Headers.Add("X-Insights-Key", value);
        }

        return request;
    }

    private static string? KeyValue(Key key) => key switch
    {
        Key.Write or Key.WriteInUrl => SystemFixture.WriteKey,
        Key.Server or Key.ServerInUrl => SystemFixture.ServerKey,
        Key.Read or Key.ReadInUrl => SystemFixture.ReadKey,
        Key.OtherSiteWrite => "loadtest-write-key-0001",
        Key.OtherSiteRead => "loadtest-read-key-0001",
        Key.Unknown => "no-site-has-this-key-0001",
        _ => null,
    };

    /// <summary>The refusal's <c>reason</c>; for a 202 of <c>/v1/events</c>, the first refused event's (null when none was).</summary>
    private static string? ReasonOf(Call call, HttpResponseMessage response, string body)
    {
        // JSON answers and problem details; not the NDJSON of an export, whose lines are not one document.
        var json = response.Content.Headers.ContentType?.MediaType is "application/json" or "application/problem+json" && body.Length > 0
            ? JsonDocument.Parse(body).RootElement
            : default;
        if (json.ValueKind != JsonValueKind.Object)
        {
            return response.IsSuccessStatusCode ? null : "(no reason)";
        }

        if (!response.IsSuccessStatusCode)
        {
            return json.TryGetProperty("reason", out var reason) ? reason.GetString() : "(no reason)";
        }

        return call <= Call.PageViewAndChat && json.TryGetProperty("rejected", out var rejected) && rejected.GetArrayLength() > 0
            ? rejected[0].GetProperty("reason").GetString()
            : null;
    }

    private static string PageView(string id) => JsonSerializer.Serialize(new
    {
        type = "pageview",
        messageId = $"m-{id}-view",
        anonymousId = $"m-{id}",
        context = new { page = new { url = $"https://shop.example/matrix/{id}", path = $"/matrix/{id}" } },
    });

    private static string Order(string id) =>
        $$"""{"type":"order","messageId":"m-{{id}}-order","anonymousId":"m-{{id}}","orderId":"m-{{id}}","total":10.5,"currency":"USD"}""";

    private static string Chat(string id) =>
        $$"""{"type":"chat_started","messageId":"m-{{id}}-chat","anonymousId":"m-{{id}}","chatId":"m-{{id}}","channel":"website"}""";

    private static string LiveChatIncomingChat(string id, bool withSecret) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["webhook_id"] = id,
        ["secret_key"] = withSecret ? SystemFixture.LiveChatSecret : null,
        ["action"] = "incoming_chat",
        ["organization_id"] = "e2e-organization",
        ["payload"] = new
        {
            chat = new
            {
                id = $"C{id}",
                thread = new { id = $"T{id}", created_at = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture) },
                users = new object[] { new { id = Guid.NewGuid().ToString(), type = "customer" } },
            },
        },
    });
}
