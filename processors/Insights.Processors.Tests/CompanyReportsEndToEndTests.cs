extern alias queryapi;

using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Insights.DevStack.Testing;
using Insights.Enrichment;
using static Insights.Processors.Tests.VisitTraffic;

namespace Insights.Processors.Tests;

/// <summary>
/// The whole path of the companies feature: page views from real networks through Kafka and the processor into
/// ClickHouse, read through the query API's company and visitor endpoints as a partner's dashboard would.
/// </summary>
public sealed class CompanyReportsEndToEndTests(CompanyTraffic traffic) : IClassFixture<CompanyTraffic>
{
    private static DateTimeOffset Now => CompanyTraffic.Now;

    private static string Range => $"from={Now.AddDays(-29):yyyy-MM-dd}&to={Now.AddDays(1):yyyy-MM-dd}";

    [Fact]
    public async Task Companies_are_listed_with_exact_counts_and_ordered_by_lead_score()
    {
        var list = await GetAsync($"/v1/sites/demo/companies?{Range}");

        var companies = list.GetProperty("companies").EnumerateArray().ToList();
        Assert.Equal(["Alberta Health Services", "Princeton University", "The Boeing Company"], companies.Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(3, list.GetProperty("total").GetInt64());
        var ahs = companies[0];
        Assert.Equal((3L, 2L, 5L), (ahs.GetProperty("visits").GetInt64(), ahs.GetProperty("visitors").GetInt64(), ahs.GetProperty("pageViews").GetInt64()));
        Assert.Equal(("/pricing", 2L), (ahs.GetProperty("topPages")[0].GetProperty("path").GetString(), ahs.GetProperty("topPages")[0].GetProperty("visits").GetInt64()));
        var scores = companies.Select(c => c.GetProperty("score").GetInt32()).ToList();
        Assert.True(scores[0] > scores[1] && scores[1] > scores[2] && scores[2] >= 0 && scores[0] <= 100, string.Join(", ", scores));
        Assert.InRange(ahs.GetProperty("firstSeen").GetDateTimeOffset() - Now.AddDays(-3), TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(1));
        Assert.Equal(IpDataPackages.DbIpAttributionHtml, list.GetProperty("attribution").GetProperty("html").GetString());
    }

    [Fact]
    public async Task The_list_sorts_filters_and_pages()
    {
        static IEnumerable<string?> Names(JsonElement list) => list.GetProperty("companies").EnumerateArray().Select(c => c.GetProperty("name").GetString());

        Assert.Equal(["Alberta Health Services", "Princeton University", "The Boeing Company"], Names(await GetAsync($"/v1/sites/demo/companies?{Range}&sort=name")));
        Assert.Equal(["The Boeing Company", "Princeton University", "Alberta Health Services"], Names(await GetAsync($"/v1/sites/demo/companies?{Range}&sort=last_seen&order=asc")));
        Assert.Equal(["Alberta Health Services", "Princeton University"], Names(await GetAsync($"/v1/sites/demo/companies?{Range}&min_score=5")));
        Assert.Equal(["The Boeing Company"], Names(await GetAsync($"/v1/sites/demo/companies?{Range}&q=BOEING")));
        var page = await GetAsync($"/v1/sites/demo/companies?{Range}&limit=1&offset=1");
        Assert.Equal(["Princeton University"], Names(page));
        Assert.Equal(3, page.GetProperty("total").GetInt64());
        Assert.Equal(["Alberta Health Services"], Names(await GetAsync($"/v1/sites/demo/companies?from={Now.AddDays(-1):yyyy-MM-dd}&to={Now.AddDays(1):yyyy-MM-dd}")));
    }

    [Fact]
    public async Task A_company_shows_its_visit_timeline_and_visitors()
    {
        var list = await GetAsync($"/v1/sites/demo/companies?{Range}&q=alberta");
        var id = list.GetProperty("companies")[0].GetProperty("id").GetString()!;

        var company = await GetAsync($"/v1/sites/demo/companies/{id}?{Range}");

        Assert.Equal(id, company.GetProperty("company").GetProperty("id").GetString());
        var visits = company.GetProperty("visits").EnumerateArray().ToList();
        Assert.Equal(["/contact", "/", "/pricing"], visits.Select(v => v.GetProperty("entryPage").GetString()));
        Assert.Equal(["ahs-1", "ahs-1", "ahs-2"], visits.Select(v => v.GetProperty("visitorId").GetString()));
        Assert.Equal(["/", "/pricing", "/pricing/enterprise"], visits[1].GetProperty("pages").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(("search", "CA"), (visits[1].GetProperty("channel").GetString(), visits[1].GetProperty("location").GetProperty("country").GetString()));
        Assert.Equal(["ahs-1", "ahs-2"], company.GetProperty("visitors").EnumerateArray().Select(v => v.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task A_visitor_profile_has_sessions_pages_events_company_geo_and_device()
    {
        var visitor = await GetAsync("/v1/sites/demo/visitors/ahs-1");

        Assert.Equal((2L, 4L), (visitor.GetProperty("visits").GetInt64(), visitor.GetProperty("pageViews").GetInt64()));
        Assert.Equal("Alberta Health Services", visitor.GetProperty("company").GetProperty("name").GetString());
        Assert.Equal("CA", visitor.GetProperty("location").GetProperty("country").GetString());
        Assert.Equal(("desktop", "Chrome"), (visitor.GetProperty("device").GetProperty("type").GetString(), visitor.GetProperty("device").GetProperty("browser").GetString()));
        Assert.Equal(["/contact", "/pricing/enterprise", "/pricing", "/"], visitor.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("path").GetString()));
        Assert.Equal(2, visitor.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sessionId").GetString()).Distinct().Count());
        Assert.Equal(IpDataPackages.DbIpAttributionHtml, visitor.GetProperty("attribution").GetProperty("html").GetString());
    }

    [Fact]
    public async Task Residential_mobile_bot_and_datacenter_traffic_never_shows_as_a_company_or_a_companys_visitor()
    {
        var list = await GetAsync($"/v1/sites/demo/companies?{Range}&limit=100");
        var body = list.ToString();

        Assert.DoesNotContain("Comcast", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("T-Mobile", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Amazon", body, StringComparison.OrdinalIgnoreCase);
        var home = await GetAsync("/v1/sites/demo/visitors/home-1");
        Assert.Equal(JsonValueKind.Null, home.GetProperty("company").ValueKind);
        using var bot = await traffic.Client.GetAsync(new Uri("/v1/sites/demo/visitors/bot-1", UriKind.Relative), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, bot.StatusCode);
    }

    [Theory]
    [InlineData("/v1/sites/demo/companies/", "' OR 1=1 --", HttpStatusCode.BadRequest)]
    [InlineData("/v1/sites/demo/companies/", "alberta-health-services-00000000", HttpStatusCode.NotFound)]
    [InlineData("/v1/sites/demo/visitors/", "ahs-1' OR '1'='1", HttpStatusCode.NotFound)]
    [InlineData("/v1/sites/demo/companies?sort=", "score;DROP TABLE sessions", HttpStatusCode.BadRequest)]
    public async Task Hostile_ids_and_parameters_change_nothing_and_leak_nothing(string path, string hostile, HttpStatusCode status)
    {
        using var response = await traffic.Client.GetAsync(new Uri(path + Uri.EscapeDataString(hostile), UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(7UL, await traffic.Pipeline.ScalarAsync("SELECT count() FROM sessions FINAL"));
    }

    private async Task<JsonElement> GetAsync(string path)
    {
        using var response = await traffic.Client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        return JsonSerializer.Deserialize<JsonElement>(body);
    }
}

/// <summary>One pipeline, processor and query API for the class: the traffic is produced and processed once, and every
/// test only reads.</summary>
public sealed class CompanyTraffic(DevStackFixture stack) : IAsyncLifetime
{
    public static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private InProcessProcessor processor = null!;
    private InProcessQueryApi api = null!;

    internal Pipeline Pipeline { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Pipeline = await Pipeline.CreateAsync(stack, "companies");
        await Pipeline.ProduceAsync(
        [
            // Alberta Health Services: two visitors, three visits, pricing and contact pages, all this week.
            View("ahs-1", "/", Now.AddHours(-2), AlbertaHealth, referrer: "https://www.google.com/"),
            View("ahs-1", "/pricing", Now.AddHours(-2).AddMinutes(2), AlbertaHealth),
            View("ahs-1", "/pricing/enterprise", Now.AddHours(-2).AddMinutes(4), AlbertaHealth),
            View("ahs-1", "/contact", Now.AddHours(-1), AlbertaHealth),
            View("ahs-2", "/pricing", Now.AddDays(-3), AlbertaHealthOther),
            // Princeton: one visit of two pages five days ago; Boeing: two blog pages three weeks ago.
            View("princeton-1", "/", Now.AddDays(-5), Princeton),
            View("princeton-1", "/docs", Now.AddDays(-5).AddMinutes(3), Princeton),
            View("boeing-1", "/blog/a", Now.AddDays(-20), Boeing),
            View("boeing-1", "/blog/b", Now.AddDays(-20).AddMinutes(1), Boeing),
            // Never companies: a home connection reading pricing twice, a phone; never visitors: a crawler from the
            // company's own network, a cloud server.
            View("home-1", "/pricing", Now.AddHours(-3), Comcast),
            View("home-1", "/pricing", Now.AddHours(-3).AddMinutes(1), Comcast),
            View("phone-1", "/contact", Now.AddHours(-3), TMobile, userAgent: SafariIphone),
            View("bot-1", "/pricing", Now.AddHours(-2), AlbertaHealth, userAgent: Googlebot),
            View("dc-1", "/pricing", Now.AddHours(-2), Amazon),
        ]);

        processor = new InProcessProcessor(Pipeline.Settings());
        await processor.StartAsync();
        await Pipeline.WaitForAsync(events: 14, sessions: 7, () => processor.Logs);

        api = new InProcessQueryApi(Pipeline);
        Client = api.CreateClient();
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadKey);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await api.DisposeAsync();
        await processor.DisposeAsync();
    }
}
