using System.Net;
using Insights.QueryApi.Tests.Support;

namespace Insights.QueryApi.Tests;

/// <summary>Malformed, oversized and SQL-looking input gets a 4xx problem, never a 500, and never changes the data.</summary>
public sealed class HostileInputTests(SeededApiFixture seeded) : IClassFixture<SeededApiFixture>
{
    public static TheoryData<string> HostileSiteIds =>
    [
        "' OR 1=1 --", "shop' OR '1'='1", "shop; DROP TABLE events", "shop%00", "SHOP", "shop\\", "{site:String}",
        new string('s', 5_000), "ünïcødé", "shop\" OR \"\"=\"",
    ];

    [Theory]
    [MemberData(nameof(HostileSiteIds))]
    public async Task A_hostile_site_id_is_404_with_a_read_key_and_401_without(string site)
    {
        var path = $"/v1/sites/{Uri.EscapeDataString(site)}/stats{SeededApiFixture.Range}";

        using var withKey = await seeded.Client.RequestAsync(path, bearer: TestSites.ShopRead);
        using var withoutKey = await seeded.Client.RequestAsync(path);

        Assert.Equal("site_not_found", (await withKey.ProblemAsync(HttpStatusCode.NotFound)).Reason());
        Assert.Equal("missing_key", (await withoutKey.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
    }

    [Theory]
    [InlineData("from", "' OR 1=1 --")]
    [InlineData("from", "2026-05-01' OR '1'='1")]
    [InlineData("to", "2026-05-02'); DROP TABLE events; --")]
    [InlineData("from", "{from:DateTime64(3, 'UTC')}")]
    [InlineData("from", "2026-02-30")]
    [InlineData("from", "2026-13-01")]
    [InlineData("from", "26-05-01")]
    [InlineData("from", "2026-05-01T25:00")]
    [InlineData("from", "2026-05-01T10:00+15:00")]
    [InlineData("from", "2026-05-01T10:00+01:75")]
    [InlineData("from", "2026-05-01\n")]
    [InlineData("from", "٢٠٢٦-٠٥-٠١")]
    [InlineData("from", "1969-12-31")]
    [InlineData("to", "2999-01-01")]
    [InlineData("from", "now()")]
    [InlineData("interval", "week")]
    [InlineData("interval", "hour; DROP TABLE events")]
    [InlineData("interval", "INTERVAL 1 DAY")]
    [InlineData("limit", "0")]
    [InlineData("limit", "101")]
    [InlineData("limit", "-1")]
    [InlineData("limit", "1e3")]
    [InlineData("limit", "1 OR 1=1")]
    [InlineData("limit", "99999999999999999999999")]
    public async Task A_malformed_parameter_is_a_400_naming_it(string name, string value)
    {
        var query = SeededApiFixture.Range.Replace($"{name}=", $"unused_{name}=", StringComparison.Ordinal) + $"&{name}={Uri.EscapeDataString(value)}";

        using var response = await seeded.Client.RequestAsync("/v1/sites/shop/stats" + query, bearer: TestSites.ShopRead);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("invalid_parameters", problem.Reason());
        Assert.True(problem.GetProperty("errors").TryGetProperty(name, out var messages), $"no error for '{name}': {problem}");
        if (value.Length > 3)
        {
            Assert.DoesNotContain(value.Trim(), messages[0].GetString()!, StringComparison.Ordinal); // input is never echoed back
        }
    }

    [Theory]
    [InlineData("?from=2026-05-02&to=2026-05-01", "from")]
    [InlineData("?from=2026-05-01&to=2026-05-01", "from")]
    [InlineData("?from=2025-01-01&to=2026-05-01", "from")]
    [InlineData("?from=2026-05-01&to=2026-06-02&interval=hour", "interval")]
    [InlineData("?from=2026-05-01T10:00&to=2026-05-01T09:59:59.999", "from")]
    public async Task Impossible_ranges_are_a_400_naming_the_parameter(string query, string name)
    {
        using var response = await seeded.Client.RequestAsync("/v1/sites/shop/stats" + query, bearer: TestSites.ShopRead);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(name, out _), problem.ToString());
    }

    [Fact]
    public async Task The_largest_allowed_ranges_are_accepted()
    {
        var days = await seeded.Client.StatsAsync("?from=2025-04-01&to=2026-05-06");
        var hours = await seeded.Client.StatsAsync("?from=2026-05-01&to=2026-06-01&interval=hour");

        Assert.Equal(400, days.Series.Count);
        Assert.Equal(31 * 24, hours.Series.Count);
        Assert.Equal(2, days.PageViews);
    }

    [Fact]
    public async Task Huge_query_strings_are_refused_or_ignored_never_a_500()
    {
        var huge = new string('9', 200_000);

        using var hugeFrom = await seeded.Client.RequestAsync($"/v1/sites/shop/stats?from={huge}", bearer: TestSites.ShopRead);
        using var hugeLimit = await seeded.Client.RequestAsync($"/v1/sites/shop/stats{SeededApiFixture.Range}&limit={huge}", bearer: TestSites.ShopRead);
        using var hugeUnknown = await seeded.Client.RequestAsync($"/v1/sites/shop/stats{SeededApiFixture.Range}&x={huge}", bearer: TestSites.ShopRead);
        using var repeated = await seeded.Client.RequestAsync(
            "/v1/sites/shop/stats" + SeededApiFixture.Range + string.Concat(Enumerable.Repeat("&interval=day", 5_000)), bearer: TestSites.ShopRead);

        Assert.True((await hugeFrom.ProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("from", out _));
        Assert.True((await hugeLimit.ProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("limit", out _));
        // An unknown parameter is refused (a misspelt filter must not answer for everything), without echoing it.
        var unknown = await hugeUnknown.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(unknown.GetProperty("errors").TryGetProperty("parameters", out _));
        Assert.DoesNotContain("99999", unknown.ToString(), StringComparison.Ordinal);
        Assert.Equal("invalid_parameters", (await repeated.ProblemAsync(HttpStatusCode.BadRequest)).Reason());
    }

    [Theory]
    [InlineData("/v1/sites/shop/nope")]
    [InlineData("/v1/sites/../../etc/passwd")]
    [InlineData("/v1/sites/shop/stats/extra")]
    public async Task Unknown_paths_are_404_problems(string path)
    {
        using var response = await seeded.Client.RequestAsync(path, bearer: TestSites.ShopRead);

        await response.ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Other_methods_are_405_problems()
    {
        using var response = await seeded.Client.PostAsync("/v1/sites/shop/stats", new StringContent("{}"), Http.Ct);

        await response.ProblemAsync(HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task A_huge_or_hostile_key_is_401()
    {
        using var huge = await seeded.Client.RequestAsync("/v1/sites/shop/stats", headerKey: new string('k', 60_000));
        using var sql = await seeded.Client.RequestAsync("/v1/sites/shop/stats", bearer: "' OR 1=1 --");

        Assert.Equal("unknown_key", (await huge.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
        Assert.Equal("unknown_key", (await sql.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
    }

    [Fact]
    public async Task After_every_hostile_request_the_data_is_untouched()
    {
        foreach (var value in new[] { "' OR 1=1 --", "'; DROP TABLE events; --", "1; TRUNCATE TABLE events" })
        {
            var escaped = Uri.EscapeDataString(value);
            using var a = await seeded.Client.RequestAsync($"/v1/sites/{escaped}/stats?from={escaped}&to={escaped}&interval={escaped}&limit={escaped}", bearer: TestSites.ShopRead);
            using var b = await seeded.Client.RequestAsync($"/v1/sites/shop/stats?from={escaped}&interval={escaped}&limit={escaped}", bearer: TestSites.ShopRead);
            Assert.True(a.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound);
            Assert.Equal(HttpStatusCode.BadRequest, b.StatusCode);
        }

        Assert.Equal(3UL, await seeded.Database.RawRowCountAsync());
        Assert.Equal(2, (await seeded.Client.StatsAsync(SeededApiFixture.Range)).PageViews);
    }

    [Fact]
    public async Task A_plus_sent_unescaped_in_an_offset_still_means_plus()
    {
        // "+" in a query string decodes to a space; the offset must not silently turn into something else.
        var stats = await seeded.Client.StatsAsync("?from=2026-05-01T12:00:00+02:00&to=2026-05-01T12:01:00+02:00&interval=hour");

        Assert.Equal((1, 1), (stats.PageViews, stats.Visitors));
        Assert.Equal(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.FromHours(2)), stats.From);
    }
}
