using System.Net;
using System.Text.Json;
using Insights.DevStack.Testing;
using Insights.QueryApi.Tests.Support;

namespace Insights.QueryApi.Tests;

/// <summary>
/// The company and visitor reports over hand-made sessions rows: the lead score's weights and recency, exact counts
/// over unmerged versions, ranges. (The path from real traffic through Kafka and the processor to these endpoints is
/// tested in processors/Insights.Processors.Tests, CompanyReportsEndToEndTests.)
/// </summary>
public sealed class CompanyReportsTests(DevStackFixture stack)
{
    private static readonly DateTime Today = DateTime.UtcNow.Date;

    private static string Range => $"?from={Today.AddDays(-29):yyyy-MM-dd}&to={Today.AddDays(1):yyyy-MM-dd}";

    [Fact]
    public async Task Recent_visits_score_higher_than_the_same_visits_weeks_ago()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        await stack.InsertVisitsAsync(db.Name,
            new TestVisit("s1", "v1", Today.AddDays(-20), ["/", "/pricing"], "old-co-00000001", "Old Co"),
            new TestVisit("s2", "v2", Today.AddHours(-1), ["/", "/pricing"], "new-co-00000002", "New Co"));
        await using var api = db.StartApi();

        var companies = await CompaniesAsync(api.CreateClient(), Range);

        Assert.Equal(["New Co", "Old Co"], companies.Select(c => c.GetProperty("name").GetString()));
        Assert.True(companies[0].GetProperty("score").GetInt32() > 2 * companies[1].GetProperty("score").GetInt32(), Describe(companies));
    }

    /// <summary>
    /// The README's two examples as values, worked by hand from the default weights (not by the code under test). The
    /// range ends in the past, so a visit's age, and so its decay, is exact. Hot Co: three visits a minute before the end,
    /// two of <c>/</c> then <c>/pricing</c> (10 + 2 + 15 = 27 points each) and one of <c>/</c> then <c>/contact</c>
    /// (10 + 2 + 20 = 32): 86 points × 0.5^(1 minute / 7 days) = 85.994, score 100 × (1 − e^−0.85994) = 57.68 → 58.
    /// Cold Co: one visit of three blog pages exactly 21 days (three half-lives) before the end: (10 + 2 + 2) × 0.125 =
    /// 1.75 points, score 100 × (1 − e^−0.0175) = 1.73 → 2.
    /// </summary>
    [Fact]
    public async Task The_documented_lead_score_examples_score_58_and_2()
    {
        var end = new DateTime(2026, 4, 1, 0, 0, 0, DateTimeKind.Utc);
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        await stack.InsertVisitsAsync(db.Name,
            new TestVisit("h1", "hot-1", end.AddMinutes(-1), ["/", "/pricing"], "hot-co-00000001", "Hot Co"),
            new TestVisit("h2", "hot-1", end.AddMinutes(-1), ["/", "/contact"], "hot-co-00000001", "Hot Co"),
            new TestVisit("h3", "hot-2", end.AddMinutes(-1), ["/", "/pricing"], "hot-co-00000001", "Hot Co"),
            new TestVisit("c1", "cold-1", end.AddDays(-21), ["/blog/a", "/blog/b", "/blog/c"], "cold-co-00000002", "Cold Co"));
        await using var api = db.StartApi();

        var companies = await CompaniesAsync(api.CreateClient(), "?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z");

        var scores = companies.ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("score").GetInt32());
        Assert.Equal(58, scores["Hot Co"]);
        Assert.Equal(2, scores["Cold Co"]);
        // The same within rounding of the unrounded formula, so a change of weights or curve cannot hide in the rounding.
        Assert.InRange(scores["Hot Co"] - (100 * (1 - Math.Exp(-86 * Math.Pow(0.5, 1.0 / (7 * 24 * 60)) / 100))), -0.5, 0.5);
        Assert.InRange(scores["Cold Co"] - (100 * (1 - Math.Exp(-1.75 / 100))), -0.5, 0.5);
    }

    [Fact]
    public async Task High_intent_pages_and_their_weights_come_from_the_settings()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        await stack.InsertVisitsAsync(db.Name,
            new TestVisit("s1", "v1", Today.AddHours(-2), ["/", "/pricing", "/pricing/team"], "pricing-co-00000001", "Pricing Co"),
            new TestVisit("s2", "v2", Today.AddHours(-2), ["/", "/Webinar/Spring"], "webinar-co-00000002", "Webinar Co"),
            new TestVisit("s3", "v3", Today.AddHours(-2), ["/", "/pricingx", "/about"], "lookalike-co-00000003", "Lookalike Co"));

        await using (var defaults = db.StartApi())
        {
            // /pricing and everything under it counts, once per page; /pricingx is not /pricing; /webinar means nothing yet.
            Assert.Equal(["Pricing Co", "Lookalike Co", "Webinar Co"], Names(await CompaniesAsync(defaults.CreateClient(), Range)));
        }

        var settings = db.Settings();
        settings["Leads:HighIntentPages:0:Path"] = "/webinar";
        settings["Leads:HighIntentPages:0:Weight"] = "80";
        await using var tuned = new QueryApiFactory(settings);
        var companies = await CompaniesAsync(tuned.CreateClient(), Range);

        Assert.Equal("Webinar Co", companies[0].GetProperty("name").GetString());
        // Configured pages replace the defaults: /pricing no longer earns anything, so its visit scores like the lookalike's.
        Assert.Equal(companies[1].GetProperty("score").GetInt32(), companies[2].GetProperty("score").GetInt32());
    }

    [Fact]
    public async Task Every_visit_counts_once_whatever_versions_of_it_are_stored_and_residential_visits_never_count()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        await stack.InsertVisitsAsync(db.Name, new TestVisit("s1", "v1", Today.AddHours(-3), ["/"], "acme-00000001", "Acme"));
        await stack.InsertVisitsAsync(db.Name, new TestVisit("s1", "v1", Today.AddHours(-3), ["/", "/pricing"], "acme-00000001", "Acme", PageViews: 3, Version: 3));
        await stack.InsertVisitsAsync(db.Name, new TestVisit("s1", "v1", Today.AddHours(-3), ["/", "/pricing"], "acme-00000001", "Acme", PageViews: 3, Version: 3));
        await stack.InsertVisitsAsync(db.Name,
            new TestVisit("s2", "v2", Today.AddHours(-2), ["/blog"], "acme-00000001", "Acme"),
            new TestVisit("s3", "home", Today.AddHours(-2), ["/pricing"]),
            new TestVisit("s4", "old", Today.AddDays(-60), ["/pricing"], "acme-00000001", "Acme"));
        await using var api = db.StartApi();

        var acme = Assert.Single(await CompaniesAsync(api.CreateClient(), Range));

        Assert.Equal((2L, 2L, 4L), (acme.GetProperty("visits").GetInt64(), acme.GetProperty("visitors").GetInt64(), acme.GetProperty("pageViews").GetInt64()));
        Assert.Equal(["/", "/blog", "/pricing"], acme.GetProperty("topPages").EnumerateArray().Select(p => p.GetProperty("path").GetString()));
    }

    [Fact]
    public async Task The_lead_list_filters_by_country_identified_visitors_and_target_accounts()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        await stack.InsertVisitsAsync(db.Name,
            new TestVisit("a1", "va1", Today.AddHours(-3), ["/", "/pricing"], "acme-00000001", "Acme", Country: "DE") { CompanyDomain = "acme.com", UserId = "u1" },
            new TestVisit("a2", "va2", Today.AddHours(-2), ["/"], "acme-00000001", "Acme", Country: "DE") { CompanyDomain = "acme.com" },
            new TestVisit("a3", "va3", Today.AddHours(-1), ["/blog"], "acme-00000001", "Acme", Country: "FR") { CompanyDomain = "acme.com" },
            new TestVisit("e1", "ve1", Today.AddHours(-2), ["/"], "acme-europe-00000003", "Acme Europe", Country: "FR") { CompanyDomain = "eu.ACME.com" },
            new TestVisit("g1", "vg1", Today.AddHours(-2), ["/"], "globex-00000002", "Globex", Country: "FR") { CompanyDomain = "globex.com" },
            new TestVisit("l1", "vl1", Today.AddHours(-2), ["/"], "lookalike-00000004", "Lookalike", Country: "FR") { CompanyDomain = "notacme.com" });
        var settings = db.Settings();
        settings["Sites:0:TargetAccounts:0"] = "acme.com";
        await using var api = new QueryApiFactory(settings);
        var client = api.CreateClient();

        var all = (await CompaniesAsync(client, Range + "&sort=name")).ToDictionary(c => c.GetProperty("name").GetString()!);
        Assert.Equal((true, true, false, false), (Target(all["Acme"]), Target(all["Acme Europe"]), Target(all["Globex"]), Target(all["Lookalike"])));
        Assert.Equal(("DE", 1L), (all["Acme"].GetProperty("country").GetString(), all["Acme"].GetProperty("identifiedVisitors").GetInt64()));

        Assert.Equal(["Acme", "Acme Europe"], Names(await CompaniesAsync(client, Range + "&target=true&sort=name")));
        var german = Assert.Single(await CompaniesAsync(client, Range + "&country=de"));
        Assert.Equal(("Acme", 2L), (german.GetProperty("name").GetString(), german.GetProperty("visits").GetInt64())); // the FR visit left out
        Assert.Equal(["Acme"], Names(await CompaniesAsync(client, Range + "&identified=true")));
        // In France: Acme's third visit too; paged past the first.
        Assert.Equal(["Acme Europe", "Globex", "Lookalike"], Names(await CompaniesAsync(client, Range + "&country=FR&identified=false&sort=name&offset=1")));
        Assert.Empty(await CompaniesAsync(client, Range + "&target=true&country=XX"));

        foreach (var (query, parameter) in new[] { ("&country=Germany", "country"), ("&identified=yes", "identified"), ("&target=1", "target"),
                     ("&country=DE%27%20OR%20%271%27%3D%271", "country"), ("&target=true%27--", "target") })
        {
            using var response = await client.RequestAsync("/v1/sites/shop/companies" + Range + query, bearer: TestSites.ShopRead);
            Assert.True((await response.ProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty(parameter, out _), query);
        }

        static bool Target(JsonElement company) => company.GetProperty("targetAccount").GetBoolean();
    }

    [Fact]
    public async Task A_company_known_from_before_the_range_has_an_empty_timeline_and_an_unknown_one_is_404()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        await stack.InsertVisitsAsync(db.Name, new TestVisit("s1", "v1", Today.AddDays(-90), ["/pricing"], "acme-00000001", "Acme"));
        await using var api = db.StartApi();
        var client = api.CreateClient();

        using var known = await client.RequestAsync($"/v1/sites/shop/companies/acme-00000001{Range}", bearer: TestSites.ShopRead);
        using var unknown = await client.RequestAsync($"/v1/sites/shop/companies/nobody-00000002{Range}", bearer: TestSites.ShopRead);
        using var otherSite = await client.RequestAsync($"/v1/sites/other/companies/acme-00000001{Range}", bearer: TestSites.OtherRead);

        var company = await known.ReadJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
        Assert.Equal(("Acme", 0L, 0), (company.GetProperty("company").GetProperty("name").GetString(),
            company.GetProperty("company").GetProperty("visits").GetInt64(), company.GetProperty("visits").GetArrayLength()));
        Assert.Equal("company_not_found", (await unknown.ProblemAsync(HttpStatusCode.NotFound)).Reason());
        Assert.Equal("company_not_found", (await otherSite.ProblemAsync(HttpStatusCode.NotFound)).Reason());
    }

    [Fact]
    public async Task A_visitor_profile_lists_visits_newest_first_and_leaves_bot_events_out()
    {
        using var db = await EventsDatabase.CreateMigratedAsync(stack);
        await stack.InsertVisitsAsync(db.Name,
            new TestVisit("s1", "v1", Today.AddDays(-2), ["/", "/docs"], "acme-00000001", "Acme"),
            new TestVisit("s2", "v1", Today.AddHours(-1), ["/pricing"]));
        await db.InsertAsync(new TestEvent("e1", TestSites.Shop, Today.AddHours(-1), "v1", "/pricing"), new TestEvent("e2", TestSites.Shop, Today.AddDays(-2), "v1", "/"));
        await stack.InsertBotEventAsync(db.Name, "e3", "v1", Today.AddMinutes(-30), "crawler");
        await using var api = db.StartApi();
        var client = api.CreateClient();

        using var response = await client.RequestAsync("/v1/sites/shop/visitors/v1", bearer: TestSites.ShopRead);
        var visitor = await response.ReadJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((2L, 3L), (visitor.GetProperty("visits").GetInt64(), visitor.GetProperty("pageViews").GetInt64()));
        Assert.Equal(["s2", "s1"], visitor.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        // The company is the latest visit's that came from a business: the home visit after it does not erase it.
        Assert.Equal("Acme", visitor.GetProperty("company").GetProperty("name").GetString());
        Assert.Equal(["e1", "e2"], visitor.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("eventId").GetString()));
        Assert.Contains("db-ip.com", visitor.GetProperty("attribution").GetProperty("html").GetString(), StringComparison.Ordinal);
    }

    private static async Task<List<JsonElement>> CompaniesAsync(HttpClient client, string query)
    {
        using var response = await client.RequestAsync("/v1/sites/shop/companies" + query, bearer: TestSites.ShopRead);
        var body = await response.Content.ReadAsStringAsync(Http.Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return [.. JsonSerializer.Deserialize<JsonElement>(body).GetProperty("companies").EnumerateArray()];
    }

    private static IEnumerable<string?> Names(List<JsonElement> companies) => companies.Select(c => c.GetProperty("name").GetString());

    private static string Describe(List<JsonElement> companies) =>
        string.Join(", ", companies.Select(c => $"{c.GetProperty("name").GetString()}={c.GetProperty("score").GetInt32()}"));
}
