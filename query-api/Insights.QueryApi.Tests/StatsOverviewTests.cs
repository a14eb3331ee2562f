using System.Net;
using Insights.DevStack.Testing;
using Insights.QueryApi.Stats;
using Insights.QueryApi.Tests.Support;

namespace Insights.QueryApi.Tests;

/// <summary>
/// The overview (visits, bounce, duration, breakdowns, filters, the previous period) against real ClickHouse, with
/// numbers worked out by hand from the rows below. Site "other" reports in UTC, so days are UTC days.
/// </summary>
public sealed class StatsOverviewTests(StatsOverviewTests.World world) : IClassFixture<StatsOverviewTests.World>
{
    private const string Site = TestSites.Other;
    private const string Key = TestSites.OtherRead;
    private const string Range = "?from=2026-05-01&to=2026-05-03";
    private const string Acme = "acme-00000001";

    private static DateTime At(int day, int hour, int minute = 0) => new(2026, 5, day, hour, minute, 0, DateTimeKind.Utc);

    /// <summary>
    /// Three visits in the range: s1 (visitor a, search from google, DE/Bavaria/Munich, Acme, / then /pricing, 60 s), s2
    /// (b, an e-mail campaign, FR/Île-de-France/Paris, mobile, /blog only: a bounce), s3 (a again, direct, DE, /pricing,
    /// /contact, /, 120 s). One in the previous two days (s0: c, a bounce), one at 'to' and one on the shop site, neither
    /// counted. s1 is stored twice: its first version said one page view; the later one (two) is the visit.
    /// </summary>
    public sealed class World(DevStackFixture stack) : IAsyncLifetime
    {
        public EventsDatabase Database { get; private set; } = null!;

        public QueryApiFactory Api { get; private set; } = null!;

        public HttpClient Client { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            Database = await EventsDatabase.CreateMigratedAsync(stack);
            var s1 = new TestVisit("s1", "a", At(1, 10), ["/", "/pricing"], Acme, "Acme", Site: Site, Version: 2, Country: "DE")
            {
                Channel = "search", ReferrerHost = "www.google.com", Region = "Bavaria", City = "Munich",
            };
            await stack.InsertVisitsAsync(Database.Name, s1 with { Version = 1, PageViews = 1, Pages = ["/"] });
            await stack.InsertVisitsAsync(Database.Name,
                s1,
                new TestVisit("s2", "b", At(1, 12), ["/blog"], Site: Site, Country: "FR")
                {
                    Channel = "email", UtmSource = "newsletter", UtmMedium = "email", UtmCampaign = "black-friday", Region = "Île-de-France",
                    City = "Paris", DeviceType = "mobile", Browser = "Safari", Os = "iOS",
                },
                new TestVisit("s3", "a", At(2, 9), ["/pricing", "/contact", "/"], Site: Site, Country: "DE")
                {
                    Region = "Bavaria", City = "Munich", Browser = "Firefox", Os = "Linux",
                },
                new TestVisit("s0", "c", At(1, 8).AddDays(-1), ["/"], Site: Site, Country: "DE"),
                new TestVisit("s9", "d", At(3, 0), ["/late"], Site: Site, Country: "DE"),
                new TestVisit("x1", "a", At(1, 10), ["/"], Site: TestSites.Shop, Country: "DE"));
            await Database.InsertAsync(
                new TestEvent("e1", Site, At(1, 10), "a", "/", ReferrerHost: "www.google.com", Host: "other.example", Session: "s1"),
                new TestEvent("e2", Site, At(1, 10, 1), "a", "/pricing", Host: "other.example", Session: "s1"),
                new TestEvent("e3", Site, At(1, 12), "b", "/blog", Host: "other.example", Session: "s2"),
                new TestEvent("e4", Site, At(2, 9), "a", "/pricing", Host: "other.example", Session: "s3"),
                new TestEvent("e5", Site, At(2, 9, 1), "a", "/contact", Host: "other.example", Session: "s3"),
                new TestEvent("e6", Site, At(2, 9, 2), "a", "/", Host: "other.example", Session: "s3"),
                new TestEvent("e0", Site, At(1, 8).AddDays(-1), "c", "/", Host: "other.example", Session: "s0"),
                new TestEvent("e9", Site, At(3, 0), "d", "/late", Host: "other.example", Session: "s9"),
                new TestEvent("x1", TestSites.Shop, At(1, 10), "a", "/", Session: "x1"));
            Api = Database.StartApi();
            Client = Api.CreateClient();
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Api.DisposeAsync();
            Database.Dispose();
        }
    }

    private Task<StatsResponse> OverviewAsync(HttpClient client, string query) => client.StatsAsync(query, Site, Key);

    [Fact]
    public async Task Headline_figures_count_visits_from_sessions_and_page_views_from_events()
    {
        var stats = await OverviewAsync(Fixture.Client, Range);

        Assert.Equal(new StatsTotals(Visitors: 2, PageViews: 6, Visits: 3, BounceRate: 0.333333, VisitDurationSeconds: 60, ViewsPerVisit: 2), stats.Totals);
        Assert.Equal((6, 2), (stats.PageViews, stats.Visitors));
        Assert.Null(stats.Comparison);
        Assert.Equal(new StatsFilters(null, null, null, null, null, null), stats.Filters);
        Assert.Equal(["2026-05-01 3/2/2", "2026-05-02 3/1/1"],
            stats.Series.Select(p => $"{p.Start:yyyy-MM-dd} {p.Views}/{p.Visitors}/{p.Visits}"));
    }

    [Fact]
    public async Task Every_breakdown_counts_the_visits_with_each_value()
    {
        var stats = await OverviewAsync(Fixture.Client, Range);

        Assert.Equal([new Breakdown("/", 1, 1, 0, 60), new Breakdown("/blog", 1, 1, 1, 0), new Breakdown("/pricing", 1, 1, 0, 120)], stats.EntryPages);
        Assert.Equal([new Breakdown("/", 1, 1, 0, 120), new Breakdown("/blog", 1, 1, 1, 0), new Breakdown("/pricing", 1, 1, 0, 60)], stats.ExitPages);
        Assert.Equal(["direct", "email", "search"], stats.Channels.Select(b => b.Value));
        Assert.Equal([new Breakdown("newsletter", 1, 1, 1, 0)], stats.UtmSources);
        Assert.Equal(["email"], stats.UtmMediums.Select(b => b.Value));
        Assert.Equal(["black-friday"], stats.UtmCampaigns.Select(b => b.Value));
        Assert.Equal([new Breakdown("DE", 1, 2, 0, 90), new Breakdown("FR", 1, 1, 1, 0)], stats.Countries);
        Assert.Equal([new Breakdown("Bavaria", 1, 2, 0, 90, "DE"), new Breakdown("Île-de-France", 1, 1, 1, 0, "FR")], stats.Regions);
        Assert.Equal([("Munich", "DE"), ("Paris", "FR")], stats.Cities.Select(b => (b.Value, b.Country!)));
        Assert.Equal([("desktop", 2L), ("mobile", 1L)], stats.Devices.Select(b => (b.Value, b.Visits)));
        Assert.Equal(["Chrome", "Firefox", "Safari"], stats.Browsers.Select(b => b.Value));
        Assert.Equal(["Linux", "Windows", "iOS"], stats.OperatingSystems.Select(b => b.Value)); // ties by value, byte order
        Assert.Equal("IP Geolocation by DB-IP", stats.Attribution.Text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("&country=DE")]
    [InlineData("&page=/pricing&compare=previous")]
    public async Task Include_totals_answers_the_same_totals_and_series_and_computes_no_list(string filter)
    {
        var full = await OverviewAsync(Fixture.Client, Range + filter);
        var totals = await OverviewAsync(Fixture.Client, Range + filter + "&include=totals");

        Assert.True(full.TopPages.Count > 0 && full.Countries.Count > 0, "the full report should have lists to leave out");
        Assert.Equal(full.Totals, totals.Totals);
        Assert.Equal((full.PageViews, full.Visitors), (totals.PageViews, totals.Visitors));
        Assert.Equal(full.Series, totals.Series);
        Assert.Equal(full.Comparison?.Totals, totals.Comparison?.Totals);
        Assert.Empty(totals.TopPages);
        Assert.Empty(totals.TopReferrers);
        Assert.All([totals.EntryPages, totals.ExitPages, totals.Channels, totals.UtmSources, totals.UtmMediums, totals.UtmCampaigns, totals.Countries,
            totals.Regions, totals.Cities, totals.Devices, totals.Browsers, totals.OperatingSystems], Assert.Empty);
    }

    [Fact]
    public async Task Include_names_the_sections_computed_besides_the_totals()
    {
        var full = await OverviewAsync(Fixture.Client, Range);
        var some = await OverviewAsync(Fixture.Client, Range + "&include=Pages,%20breakdowns");

        Assert.NotEmpty(full.TopReferrers);
        Assert.Equal(full.TopPages, some.TopPages);
        Assert.Empty(some.TopReferrers);
        Assert.Equal(full.Countries, some.Countries);
        Assert.Equal(full.Browsers, some.Browsers);
        Assert.Equal(full.Totals, some.Totals);
    }

    [Fact]
    public async Task Limit_cuts_every_list()
    {
        var stats = await OverviewAsync(Fixture.Client, Range + "&limit=1");

        Assert.Equal(["DE"], stats.Countries.Select(b => b.Value));
        Assert.Single(stats.EntryPages);
        Assert.Single(stats.Browsers);
        Assert.Single(stats.TopPages);
        Assert.Equal(3, stats.Totals.Visits);
    }

    [Fact]
    public async Task Compare_previous_reports_the_period_of_the_same_length_before_and_the_change()
    {
        var stats = await OverviewAsync(Fixture.Client, Range + "&compare=previous");

        var previous = stats.Comparison!;
        Assert.Equal((new DateTimeOffset(2026, 4, 29, 0, 0, 0, TimeSpan.Zero), stats.From), (previous.From, previous.To));
        Assert.Equal(new StatsTotals(1, 1, 1, 1, 0, 1), previous.Totals);
        Assert.Equal(new StatsChange(Visitors: 1, PageViews: 5, Visits: 2, BounceRate: -0.666667, VisitDurationSeconds: null, ViewsPerVisit: 1),
            previous.Change);
        Assert.Equal(["2026-04-29 0/0/0", "2026-04-30 1/1/1"], previous.Series.Select(p => $"{p.Start:yyyy-MM-dd} {p.Views}/{p.Visitors}/{p.Visits}"));
    }

    [Fact]
    public async Task A_country_filter_applies_to_every_panel()
    {
        var stats = await OverviewAsync(Fixture.Client, Range + "&country=de&compare=previous");

        Assert.Equal("DE", stats.Filters.Country);
        Assert.Equal(new StatsTotals(1, 5, 2, 0, 90, 2.5), stats.Totals);
        Assert.Equal(["DE"], stats.Countries.Select(b => b.Value));
        Assert.DoesNotContain(stats.TopPages, p => p.Path == "/blog");
        Assert.Empty(stats.UtmCampaigns);
        Assert.Equal(["2026-05-01 2/1/1", "2026-05-02 3/1/1"], stats.Series.Select(p => $"{p.Start:yyyy-MM-dd} {p.Views}/{p.Visitors}/{p.Visits}"));
        Assert.Equal(new StatsTotals(1, 1, 1, 1, 0, 1), stats.Comparison!.Totals); // the previous visit was from DE too
    }

    [Fact]
    public async Task A_page_filter_keeps_that_pages_views_and_the_visits_that_saw_it()
    {
        var stats = await OverviewAsync(Fixture.Client, Range + "&page=/pricing");

        Assert.Equal([new PageStats("/pricing", 2, 1)], stats.TopPages);
        Assert.Equal((2, 1, 2), (stats.Totals.PageViews, stats.Totals.Visitors, stats.Totals.Visits));
        Assert.Equal(["/", "/pricing"], stats.EntryPages.Select(b => b.Value));
        Assert.Empty(stats.TopReferrers); // /pricing was never arrived at from another site
    }

    [Theory]
    [InlineData("&channel=email", 1, 1, 1)]
    [InlineData("&campaign=black-friday", 1, 1, 1)]
    [InlineData("&referrer=google.com", 2, 1, 1)]
    [InlineData("&referrer=WWW.Google.com", 2, 1, 1)]
    [InlineData("&company=" + Acme, 2, 1, 1)]
    [InlineData("&country=DE&channel=email", 0, 0, 0)]
    [InlineData("&campaign=%27%20OR%201%3D1%20--", 0, 0, 0)]
    [InlineData("&campaign=%D0%A7%D0%B5%D1%80%D0%BD%D0%B0%D1%8F", 0, 0, 0)]
    [InlineData("&company=other-co-0000000f", 0, 0, 0)]
    public async Task Visit_filters_keep_the_matching_visits_and_their_page_views(string filter, long pageViews, long visitors, long visits)
    {
        var stats = await OverviewAsync(Fixture.Client, Range + filter);

        Assert.Equal((pageViews, visitors, visits), (stats.Totals.PageViews, stats.Totals.Visitors, stats.Totals.Visits));
        Assert.Equal(visits, stats.Channels.Sum(c => c.Visits));
        Assert.Equal(pageViews, stats.Series.Sum(p => p.Views));
    }

    [Fact]
    public async Task Another_sites_company_or_data_never_shows()
    {
        // Visitor a and its Acme visit are on both sites; the shop's row must not count for "other", nor the reverse.
        var shop = await Fixture.Client.StatsAsync(Range);
        Assert.Equal((1, 1, 1), (shop.Totals.PageViews, shop.Totals.Visitors, shop.Totals.Visits));
        var other = await OverviewAsync(Fixture.Client, Range + "&company=" + Acme);
        Assert.Equal(1, other.Totals.Visits);
    }

    [Theory]
    [InlineData("&country=Germany", "country")]
    [InlineData("&country=D%C3%9C", "country")]
    [InlineData("&country=DE%27%20OR%20%271%27%3D%271", "country")]
    [InlineData("&channel=telepathy", "channel")]
    [InlineData("&company=ACME", "company")]
    [InlineData("&company=x%27%3B%20DROP%20TABLE%20events%3B--", "company")]
    [InlineData("&page=pricing", "page")]
    [InlineData("&page=/a%00b", "page")]
    [InlineData("&referrer=http://evil.example/", "referrer")]
    [InlineData("&referrer=a%20b", "referrer")]
    [InlineData("&campaign=a%0Ab", "campaign")]
    [InlineData("&compare=yesterday", "compare")]
    [InlineData("&include=everything", "include")]
    [InlineData("&include=pages,breakdown", "include")]
    [InlineData("&include=", "include")]
    [InlineData("&include=%20,%20", "include")]
    [InlineData("&countyr=DE", "parameters")]
    [InlineData("&filter=country:DE", "parameters")]
    public async Task Bad_filters_are_refused_naming_the_parameter(string filter, string parameter)
    {
        using var response = await Fixture.Client.RequestAsync($"/v1/sites/{Site}/stats{Range}{filter}", bearer: Key);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("invalid_parameters", problem.Reason());
        Assert.True(problem.GetProperty("errors").TryGetProperty(parameter, out _), problem.ToString());
    }

    [Fact]
    public async Task Oversized_filter_values_are_refused()
    {
        var longPage = "/" + new string('a', 2000);
        var longCampaign = new string('c', 201);
        var longHost = string.Join('.', Enumerable.Repeat("abcdefghij", 30));

        foreach (var (filter, parameter) in new[] { ("page", longPage), ("campaign", longCampaign), ("referrer", longHost) }
                     .Select(f => ($"&{f.Item1}={Uri.EscapeDataString(f.Item2)}", f.Item1)))
        {
            using var response = await Fixture.Client.RequestAsync($"/v1/sites/{Site}/stats{Range}{filter}", bearer: Key);
            var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty(parameter, out _), problem.ToString());
            Assert.DoesNotContain("aaaaaaaaaa", problem.ToString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("?from=1970-07-01&to=1970-09-01&compare=previous")]
    [InlineData("?from=2100-01-01&to=2100-12-31&compare=previous&country=DE")]
    [InlineData("?from=2026-05-01T10:00&to=2026-05-01T10:00:01&compare=previous&interval=hour")]
    public async Task A_comparison_at_the_edges_of_the_calendar_is_still_an_answer(string query)
    {
        var stats = await OverviewAsync(Fixture.Client, query);

        Assert.NotNull(stats.Comparison);
        Assert.Equal(stats.From, stats.Comparison.To);
        Assert.Equal(stats.To - stats.From, stats.Comparison.To - stats.Comparison.From);
    }

    [Fact]
    public async Task No_comparison_reaches_before_1970()
    {
        using var response = await Fixture.Client.RequestAsync($"/v1/sites/{Site}/stats?from=1970-01-02&to=1971-01-01&compare=previous", bearer: Key);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("compare", out _), problem.ToString());
    }

    [Fact]
    public async Task A_filter_is_checked_after_the_key()
    {
        using var noKey = await Fixture.Client.RequestAsync($"/v1/sites/{Site}/stats{Range}&country=Germany");
        using var otherSitesKey = await Fixture.Client.RequestAsync($"/v1/sites/{Site}/stats{Range}&country=Germany", bearer: TestSites.ShopRead);

        Assert.Equal("missing_key", (await noKey.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
        Assert.Equal("site_not_found", (await otherSitesKey.ProblemAsync(HttpStatusCode.NotFound)).Reason());
    }

    private World Fixture => world;
}
