using System.Net;
using System.Text.Json;
using Insights.DevStack.Testing;
using Insights.QueryApi.Tests.Support;

namespace Insights.QueryApi.Tests;

/// <summary>
/// The company and visitor endpoints under malformed, oversized and hostile input, wrong keys, and in the API
/// reference: always a 4xx problem (never a 500), never an echo of the input, never a change to the data.
/// </summary>
public sealed class CompanyReportsInputTests(SeededApiFixture seeded, DevStackFixture stack) : IClassFixture<SeededApiFixture>
{
    public static TheoryData<string> HostileCompanyIds =>
    [
        "' OR 1=1 --", "acme-00000001' OR '1'='1", "acme-00000001; DROP TABLE sessions", "{id:String}", "ACME-00000001",
        "acme-0000000g", "acme-00000001\n", "acme--00000001", "-00000001", new string('a', 5_000) + "-00000001", "ünïcødé-00000001", "acme_00000001",
    ];

    [Theory]
    [MemberData(nameof(HostileCompanyIds))]
    public async Task A_company_id_not_in_the_shape_the_list_returns_is_a_400_naming_it(string id)
    {
        using var response = await seeded.Client.RequestAsync($"/v1/sites/shop/companies/{Uri.EscapeDataString(id)}", bearer: TestSites.ShopRead);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("id", out var messages), problem.ToString());
        Assert.DoesNotContain(id.Trim(), messages[0].GetString()!, StringComparison.Ordinal);
    }

    public static TheoryData<string, HttpStatusCode> HostileVisitorIds => new()
    {
        { "' OR 1=1 --", HttpStatusCode.NotFound },
        { "v1'; DROP TABLE events; --", HttpStatusCode.NotFound },
        { "{id:String}", HttpStatusCode.NotFound },
        { "\\' OR \\'\\'=\\'", HttpStatusCode.NotFound },
        { new string('v', 256), HttpStatusCode.NotFound },
        { new string('v', 257), HttpStatusCode.BadRequest },
        { new string('v', 50_000), HttpStatusCode.BadRequest },
        { "v1\u0001", HttpStatusCode.BadRequest },
        { "v1\r\nX-Injected: 1", HttpStatusCode.BadRequest },
        { " ", HttpStatusCode.BadRequest },
    };

    [Theory]
    [MemberData(nameof(HostileVisitorIds))]
    public async Task A_hostile_visitor_id_is_an_unknown_visitor_or_a_400_and_never_reaches_sql_as_text(string id, HttpStatusCode status)
    {
        using var response = await seeded.Client.RequestAsync($"/v1/sites/shop/visitors/{Uri.EscapeDataString(id)}", bearer: TestSites.ShopRead);

        var problem = await response.ProblemAsync(status);
        Assert.Equal(status == HttpStatusCode.NotFound ? "visitor_not_found" : "invalid_parameters", problem.Reason());
        Assert.Equal(3UL, await seeded.Database.RawRowCountAsync());
    }

    [Theory]
    [InlineData("sort", "score; DROP TABLE sessions")]
    [InlineData("sort", "visits DESC, (SELECT 1)")]
    [InlineData("sort", "company_id")]
    [InlineData("order", "desc; --")]
    [InlineData("order", "sideways")]
    [InlineData("min_score", "101")]
    [InlineData("min_score", "-1")]
    [InlineData("min_score", "1 OR 1=1")]
    [InlineData("min_score", "50.5")]
    [InlineData("offset", "-1")]
    [InlineData("offset", "10001")]
    [InlineData("offset", "99999999999999999999")]
    [InlineData("limit", "0")]
    [InlineData("limit", "100000")]
    [InlineData("from", "' OR 1=1 --")]
    [InlineData("to", "2999-01-01")]
    [InlineData("q", "a\u0000b")]
    public async Task A_malformed_list_parameter_is_a_400_naming_it(string name, string value)
    {
        using var response = await seeded.Client.RequestAsync(
            $"/v1/sites/shop/companies{SeededApiFixture.Range}".Replace($"{name}=", $"unused_{name}=", StringComparison.Ordinal) +
            $"&{name}={Uri.EscapeDataString(value)}", bearer: TestSites.ShopRead);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("invalid_parameters", problem.Reason());
        Assert.True(problem.GetProperty("errors").TryGetProperty(name, out _), problem.ToString());
    }

    [Fact]
    public async Task An_oversized_search_is_a_400_and_a_hostile_but_short_one_is_just_text()
    {
        using var huge = await seeded.Client.RequestAsync($"/v1/sites/shop/companies?q={new string('x', 20_000)}", bearer: TestSites.ShopRead);
        using var hostile = await seeded.Client.RequestAsync($"/v1/sites/shop/companies?q={Uri.EscapeDataString("%' OR 1=1 --")}", bearer: TestSites.ShopRead);

        Assert.Equal("invalid_parameters", (await huge.ProblemAsync(HttpStatusCode.BadRequest)).Reason());
        Assert.Equal(HttpStatusCode.OK, hostile.StatusCode);
        Assert.Equal(0, (await hostile.ReadJsonAsync<JsonElement>()).GetProperty("companies").GetArrayLength());
    }

    [Theory]
    [InlineData("/v1/sites/shop/companies")]
    [InlineData("/v1/sites/shop/companies/acme-00000001")]
    [InlineData("/v1/sites/shop/visitors/v1")]
    public async Task Keys_are_checked_before_anything_else(string path)
    {
        using var none = await seeded.Client.RequestAsync(path + "?limit=0");
        using var write = await seeded.Client.RequestAsync(path + "?limit=0", bearer: TestSites.ShopWrite);
        using var otherSite = await seeded.Client.RequestAsync(path + "?limit=0", bearer: TestSites.OtherRead);

        Assert.Equal("missing_key", (await none.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
        Assert.Equal("key_cannot_read", (await write.ProblemAsync(HttpStatusCode.Forbidden)).Reason());
        Assert.Equal("site_not_found", (await otherSite.ProblemAsync(HttpStatusCode.NotFound)).Reason());
    }

    [Fact]
    public async Task The_openapi_document_describes_the_new_endpoints_with_the_db_ip_credit()
    {
        using var response = await seeded.Client.RequestAsync("/openapi/v1.json");
        var paths = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync(Http.Ct)).GetProperty("paths");

        var list = paths.GetProperty("/v1/sites/{site}/companies").GetProperty("get");
        Assert.Equal(["country", "from", "identified", "limit", "min_score", "offset", "order", "q", "site", "sort", "target", "to"],
            list.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).Order());
        Assert.Equal(["200", "400", "401", "403", "404", "503"], list.GetProperty("responses").EnumerateObject().Select(r => r.Name).Order());
        foreach (var path in new[] { "/v1/sites/{site}/companies", "/v1/sites/{site}/companies/{id}", "/v1/sites/{site}/visitors/{id}" })
        {
            Assert.Contains("IP Geolocation by DB-IP", paths.GetProperty(path).GetProperty("get").GetProperty("description").GetString(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Leads:HalfLifeDays", "0", "HalfLifeDays")]
    [InlineData("Leads:Scale", "-5", "Scale")]
    [InlineData("Leads:HighIntentPages:0:Path", "pricing", "Leads:HighIntentPages:0:Path")]
    [InlineData("Leads:HighIntentPages:0:Weight", "5000", "Leads:HighIntentPages:0:Weight")]
    public async Task A_bad_lead_score_setting_stops_the_start_naming_it(string key, string value, string expected)
    {
        var settings = TestSites.Settings(stack.ConnectionString(), "insights");
        settings[key] = value;
        if (key.EndsWith("Weight", StringComparison.Ordinal))
        {
            settings["Leads:HighIntentPages:0:Path"] = "/pricing";
        }

        var (exit, output) = await QueryApiProcess.RunUntilExitAsync(settings);

        Assert.NotEqual(0, exit);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }
}
