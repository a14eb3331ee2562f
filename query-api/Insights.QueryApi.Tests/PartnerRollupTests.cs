using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Insights.DevStack.Testing;
using Insights.QueryApi.Tests.Support;
using static Insights.QueryApi.Tests.Support.PartnerWorld;

namespace Insights.QueryApi.Tests;

/// <summary>
/// The partner roll-ups over real ClickHouse and a real control-plane SQLite file (<see cref="PartnerWorld"/>): a partner
/// sees its own clients' data and nothing of another partner's, staff only their assigned clients, and every number
/// equals the per-site reports' numbers summed (per currency for money).
/// </summary>
public sealed class PartnerRollupTests(PartnerWorld world) : IClassFixture<PartnerWorld>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_partners_company_rollup_never_contains_another_partners_sites_or_companies()
    {
        var (bodyA, a) = await GetAsync($"/v1/partners/{PartnerA}/companies?{Span}&limit=100", AdminA);
        var (_, b) = await GetAsync($"/v1/partners/{PartnerB}/companies?{Span}&limit=100", AdminB);

        Assert.Equal(["alpha-de", "alpha-us", "beta"], Ids(a.GetProperty("sites")));
        Assert.Equal(["Acme", "Initech"], Names(a).Order());
        Assert.Equal(["alpha-de", "beta"], Ids(Company(a, "Acme").GetProperty("sites"), "site").Order());
        foreach (var foreign in new[] { "gamma", "Globex", "Gamma Ltd", PartnerB.ToString() })
        {
            Assert.DoesNotContain(foreign, bodyA, StringComparison.OrdinalIgnoreCase);
        }

        // Partner B's Acme is only what Acme did on B's client site.
        Assert.Equal(["Acme", "Globex"], Names(b).Order());
        Assert.Equal(["gamma"], Ids(Company(b, "Acme").GetProperty("sites"), "site"));
        Assert.Equal(1, Company(b, "Acme").GetProperty("visits").GetInt64());
        Assert.Equal(3, Company(a, "Acme").GetProperty("visits").GetInt64()); // not the visit before the range, not gamma's
    }

    [Fact]
    public async Task Every_company_at_a_site_has_the_numbers_of_that_sites_company_report()
    {
        using var client = world.Api.CreateClient();
        var checkedSites = 0;
        foreach (var (partner, admin) in new[] { (PartnerA, AdminA), (PartnerB, AdminB) })
        {
            var (_, rollup) = await GetAsync($"/v1/partners/{partner}/companies?{Span}&limit=100", admin);
            foreach (var company in rollup.GetProperty("companies").EnumerateArray())
            {
                var atSites = company.GetProperty("sites").EnumerateArray().ToList();
                foreach (var at in atSites)
                {
                    var site = at.GetProperty("site").GetString()!;
                    using var response = await client.RequestAsync($"/v1/sites/{site}/companies?{Span}&limit=100", bearer: ReadKey(site));
                    var report = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync(Ct));
                    var same = report.GetProperty("companies").EnumerateArray().Single(c => c.GetProperty("id").GetString() == company.GetProperty("id").GetString());
                    foreach (var field in new[] { "score", "visits", "visitors", "pageViews" })
                    {
                        Assert.True(same.GetProperty(field).GetInt64() == at.GetProperty(field).GetInt64(), $"{site} {field}: site report {same} vs roll-up {at}");
                    }

                    Assert.Equal(same.GetProperty("lastSeen").GetDateTimeOffset(), at.GetProperty("lastSeen").GetDateTimeOffset());
                    checkedSites++;
                }

                Assert.Equal(atSites.Sum(s => s.GetProperty("visits").GetInt64()), company.GetProperty("visits").GetInt64());
                Assert.Equal(atSites.Sum(s => s.GetProperty("pageViews").GetInt64()), company.GetProperty("pageViews").GetInt64());
                Assert.Equal(atSites.Max(s => s.GetProperty("score").GetInt32()), company.GetProperty("score").GetInt32());
            }
        }

        Assert.Equal(5, checkedSites); // Acme at alpha-de, beta, gamma; Initech at alpha-us; Globex at gamma
    }

    [Theory]
    [InlineData("last_chat")]
    [InlineData("linear")]
    [InlineData("chat_assisted")]
    public async Task Revenue_per_client_equals_the_sites_sales_reports_summed_per_currency(string model)
    {
        using var client = world.Api.CreateClient();
        var (body, a) = await GetAsync($"/v1/partners/{PartnerA}/revenue?{Span}&model={model}", AdminA);

        Assert.Equal(["Alpha GmbH", "Beta Inc"], a.GetProperty("clients").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.DoesNotContain("gamma", body, StringComparison.OrdinalIgnoreCase);
        var expectedTotals = new Dictionary<string, decimal[]>();
        foreach (var organisation in a.GetProperty("clients").EnumerateArray())
        {
            var perCurrency = new Dictionary<string, decimal[]>();
            foreach (var site in organisation.GetProperty("sites").EnumerateArray())
            {
                var id = site.GetProperty("site").GetString()!;
                using var response = await client.RequestAsync($"/v1/sites/{id}/sales?{Span}&model={model}", bearer: ReadKey(id));
                var sales = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync(Ct));
                var figures = Assert.Single(site.GetProperty("revenue").EnumerateArray());
                Assert.Equal(sales.GetProperty("currency").GetString(), figures.GetProperty("currency").GetString());
                var numbers = Numbers(figures);
                Assert.Equal([sales.GetProperty("orders").GetDecimal(), sales.GetProperty("revenue").GetDecimal(),
                    sales.GetProperty("chatAttributedRevenue").GetDecimal(), sales.GetProperty("chatAttributedOrders").GetDecimal(),
                    sales.GetProperty("unconvertedOrders").GetDecimal()], numbers);
                Add(perCurrency, figures.GetProperty("currency").GetString()!, numbers);
                Add(expectedTotals, figures.GetProperty("currency").GetString()!, numbers);
            }

            Assert.Equal(perCurrency.Keys.Order(), organisation.GetProperty("revenue").EnumerateArray().Select(c => c.GetProperty("currency").GetString()!));
            foreach (var figures in organisation.GetProperty("revenue").EnumerateArray())
            {
                Assert.Equal(perCurrency[figures.GetProperty("currency").GetString()!], Numbers(figures));
            }
        }

        // Alpha reports in EUR and USD: two entries, never one sum.
        var alpha = a.GetProperty("clients")[0].GetProperty("revenue").EnumerateArray().ToDictionary(c => c.GetProperty("currency").GetString()!);
        Assert.Equal(["EUR", "USD"], alpha.Keys);
        Assert.Equal(140.50m, alpha["EUR"].GetProperty("revenue").GetDecimal());
        Assert.Equal(300m, alpha["USD"].GetProperty("revenue").GetDecimal());
        var totals = a.GetProperty("totals").EnumerateArray().ToDictionary(c => c.GetProperty("currency").GetString()!, Numbers);
        Assert.Equal(expectedTotals.Keys.Order(), totals.Keys);
        foreach (var (currency, numbers) in expectedTotals)
        {
            Assert.Equal(numbers, totals[currency]);
        }

        Assert.Equal(160.49m, totals["EUR"][1]); // 100.50 + 40 (alpha-de) + 19.99 (beta); gamma's 5000 is partner B's
    }

    [Fact]
    public async Task Partner_staff_see_only_the_clients_they_are_assigned_to()
    {
        var (companiesBody, companies) = await GetAsync($"/v1/partners/{PartnerA}/companies?{Span}&limit=100", StaffA);
        var (_, revenue) = await GetAsync($"/v1/partners/{PartnerA}/revenue?{Span}", StaffA);

        Assert.Equal(["beta"], Ids(companies.GetProperty("sites")));
        Assert.DoesNotContain("alpha", companiesBody, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(["Acme"], Names(companies));
        Assert.Equal(1, Company(companies, "Acme").GetProperty("visits").GetInt64());
        Assert.Equal(["Beta Inc"], revenue.GetProperty("clients").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        await ProblemAsync($"/v1/partners/{PartnerA}/revenue?{Span}&sites=alpha-de", StaffA, HttpStatusCode.NotFound, "site_not_found");
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized, "sign_in_required")]
    [InlineData("owner", HttpStatusCode.NotFound, "partner_not_found")] // a client's owner is no partner admin
    [InlineData("other-admin", HttpStatusCode.NotFound, "partner_not_found")] // the same answer as a partner that does not exist
    public async Task Only_the_partners_own_people_get_its_rollups(string? who, HttpStatusCode status, string reason)
    {
        Guid? person = who switch { "owner" => BetaOwner, "other-admin" => AdminB, _ => null };
        foreach (var path in new[] { $"/companies?{Span}", "/companies/now", $"/revenue?{Span}" })
        {
            var problem = await ProblemAsync($"/v1/partners/{PartnerA}{path}", person, status, reason);
            Assert.DoesNotContain("Alpha", problem.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_site_key_or_a_forged_token_is_no_person()
    {
        using var client = world.Api.CreateClient();
        // A site key is a key, not a person: the same answer as on every management endpoint.
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/partners/{PartnerA}/companies?{Span}"))
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + ReadKey("alpha-de"));
            using var response = await client.SendAsync(request, Ct);
            Assert.Equal("key_cannot_manage", (await response.ProblemAsync(HttpStatusCode.Forbidden)).Reason());
        }

        foreach (var bearer in new[] { "ipt_" + new string('A', 43), "ipt_\u00e9\u202e" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/partners/{PartnerA}/companies?{Span}");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
            using var response = await client.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.DoesNotContain("Alpha", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("00000000-0000-0000-0000-000000000000")]
    [InlineData("not-a-partner")]
    [InlineData("%C3%A9%E2%80%AE%F0%9F%98%80")]
    [InlineData("AAAAAAAA-0000-4000-8000-000000000001x")]
    [InlineData("{aaaaaaaa-0000-4000-8000-000000000001}")]
    public async Task A_partner_id_that_is_not_one_is_not_found(string partner)
    {
        await ProblemAsync($"/v1/partners/{partner}/companies?{Span}", AdminA, HttpStatusCode.NotFound, "partner_not_found");
        await ProblemAsync($"/v1/partners/{partner + new string('9', 5000)}/revenue", AdminA, HttpStatusCode.NotFound, "partner_not_found");
    }

    [Theory]
    [InlineData("/companies?limit=0", "limit")]
    [InlineData("/companies?limit=101", "limit")]
    [InlineData("/companies?limit=99999999999", "limit")]
    [InlineData("/companies?from=2026-05-01'%20OR%201=1", "from")]
    [InlineData("/companies?from=2020-01-01&to=2026-05-01", "from")]
    [InlineData("/companies?live=yes", "live")]
    [InlineData("/companies?live=1&from=2026-05-01", "live")]
    [InlineData("/companies/now?limit=-1", "limit")]
    [InlineData("/revenue?model=last_touch", "model")]
    [InlineData("/revenue?model=%7Bmodel:String%7D", "model")]
    [InlineData("/revenue?to=now()", "to")]
    [InlineData("/revenue?sites=beta%0Aalpha-de", "sites")]
    public async Task Malformed_parameters_are_refused_naming_the_parameter(string path, string parameter)
    {
        var problem = await ProblemAsync($"/v1/partners/{PartnerA}{path}", AdminA, HttpStatusCode.BadRequest, "invalid_parameters");
        Assert.True(problem.GetProperty("errors").TryGetProperty(parameter, out _), problem.ToString());
    }

    [Fact]
    public async Task Sites_can_be_chosen_within_the_scope_and_the_per_call_cap_holds()
    {
        var (_, chosen) = await GetAsync($"/v1/partners/{PartnerA}/companies?{Span}&sites=alpha-de,%20alpha-de", AdminA);
        Assert.Equal(["alpha-de"], Ids(chosen.GetProperty("sites")));
        Assert.Equal(["Acme"], Names(chosen));

        // Another partner's site, named explicitly: the same 404 as a site that does not exist.
        await ProblemAsync($"/v1/partners/{PartnerA}/companies?{Span}&sites=alpha-de,gamma", AdminA, HttpStatusCode.NotFound, "site_not_found");
        await ProblemAsync($"/v1/partners/{PartnerA}/companies?{Span}&sites=nope", AdminA, HttpStatusCode.NotFound, "site_not_found");

        await using var capped = world.StartApi(new() { ["Partners:MaxSites"] = "2" });
        using var client = capped.CreateClient();
        using var tooMany = await SendAsync(client, $"/v1/partners/{PartnerA}/revenue?{Span}", AdminA);
        var problem = await tooMany.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("at most 2", problem.GetProperty("errors").GetProperty("sites")[0].GetString(), StringComparison.Ordinal);
        using var two = await SendAsync(client, $"/v1/partners/{PartnerA}/revenue?{Span}&sites=alpha-de,beta", AdminA);
        Assert.Equal(HttpStatusCode.OK, two.StatusCode);
    }

    [Fact]
    public async Task Now_shows_companies_with_a_visit_in_the_last_minutes_on_the_partners_sites_only()
    {
        var now = DateTime.UtcNow;
        await world.InsertLiveVisitsAsync(
            new TestVisit("live-1", "vl1", now.AddMinutes(-20), [.. Enumerable.Range(0, 20).Select(i => $"/p{i}")], "live-co-0000000a", "Live Co", Site: "beta"),
            new TestVisit("gone-1", "vl2", now.AddMinutes(-60), ["/"], "gone-co-0000000b", "Gone Co", Site: "beta"),
            new TestVisit("live-2", "vl3", now.AddMinutes(-2), ["/", "/pricing"], "elsewhere-0000000c", "Elsewhere Co", Site: "gamma"));

        var (_, nowA) = await GetAsync($"/v1/partners/{PartnerA}/companies/now", AdminA);
        var (_, liveA) = await GetAsync($"/v1/partners/{PartnerA}/companies?live=1", AdminA);
        var (_, nowB) = await GetAsync($"/v1/partners/{PartnerB}/companies/now", AdminB);

        Assert.True(nowA.GetProperty("live").GetBoolean());
        Assert.Equal(["Live Co"], Names(nowA));
        Assert.Equal(Names(nowA), Names(liveA));
        Assert.Equal(["Elsewhere Co"], Names(nowB));
        Assert.InRange(nowA.GetProperty("to").GetDateTimeOffset() - nowA.GetProperty("from").GetDateTimeOffset(), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5));
    }

    private async Task<(string Body, JsonElement Json)> GetAsync(string url, Guid person)
    {
        using var client = world.Api.CreateClient();
        using var response = await SendAsync(client, url, person);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: expected 200, got {(int)response.StatusCode}: {body}");
        return (body, JsonSerializer.Deserialize<JsonElement>(body));
    }

    private async Task<JsonElement> ProblemAsync(string url, Guid? person, HttpStatusCode status, string reason)
    {
        using var client = world.Api.CreateClient();
        using var response = await SendAsync(client, url, person);
        var problem = await response.ProblemAsync(status);
        Assert.Equal(reason, problem.Reason());
        return problem;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpClient client, string url, Guid? person)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (person is { } id)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", world.Token(id));
        }

        return await client.SendAsync(request, Ct);
    }

    private static string[] Ids(JsonElement array, string property = "id") => [.. array.EnumerateArray().Select(e => e.GetProperty(property).GetString()!)];

    private static string[] Names(JsonElement response) => Ids(response.GetProperty("companies"), "name");

    private static JsonElement Company(JsonElement response, string name) =>
        response.GetProperty("companies").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static decimal[] Numbers(JsonElement figures) =>
    [
        figures.GetProperty("orders").GetDecimal(), figures.GetProperty("revenue").GetDecimal(), figures.GetProperty("chatAttributedRevenue").GetDecimal(),
        figures.GetProperty("chatAttributedOrders").GetDecimal(), figures.GetProperty("unconvertedOrders").GetDecimal(),
    ];

    private static void Add(Dictionary<string, decimal[]> sums, string currency, decimal[] numbers)
    {
        var sum = sums.TryGetValue(currency, out var existing) ? existing : sums[currency] = new decimal[numbers.Length];
        for (var i = 0; i < numbers.Length; i++)
        {
            sum[i] += numbers[i];
        }
    }
}
