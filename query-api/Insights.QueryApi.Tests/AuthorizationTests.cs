using System.Net;
using System.Net.Http.Headers;
using Insights.QueryApi.Tests.Support;

namespace Insights.QueryApi.Tests;

/// <summary>Who may read which site: only a read key, only its own site, and nobody learns which other sites exist.</summary>
public sealed class AuthorizationTests(SeededApiFixture seeded) : IClassFixture<SeededApiFixture>
{
    private const string ShopStats = "/v1/sites/shop/stats" + SeededApiFixture.Range;

    [Fact]
    public async Task A_read_key_reads_its_own_site()
    {
        var stats = await seeded.Client.StatsAsync(SeededApiFixture.Range);

        Assert.Equal((2, 2), (stats.PageViews, stats.Visitors));
    }

    [Fact]
    public async Task No_key_is_401_with_a_bearer_challenge()
    {
        using var response = await seeded.Client.RequestAsync(ShopStats);

        var problem = await response.ProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal("missing_key", problem.Reason());
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Theory]
    [InlineData("bearer")]
    [InlineData("header")]
    public async Task An_unknown_key_is_401(string where)
    {
        using var response = await Send(where, "no-such-key-at-all");

        Assert.Equal("unknown_key", (await response.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
    }

    [Theory]
    [InlineData(TestSites.ShopWrite, "bearer")]
    [InlineData(TestSites.ShopWrite, "header")]
    [InlineData(TestSites.ShopServer, "bearer")]
    [InlineData(TestSites.OtherWrite, "header")]
    public async Task A_write_or_server_key_cannot_read(string key, string where)
    {
        using var response = await Send(where, key);

        var problem = await response.ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal("key_cannot_read", problem.Reason());
    }

    [Fact]
    public async Task Another_sites_read_key_and_a_missing_site_get_the_same_404()
    {
        using var otherSite = await seeded.Client.RequestAsync(ShopStats, bearer: TestSites.OtherRead);
        using var noSuchSite = await seeded.Client.RequestAsync("/v1/sites/no-such-site/stats" + SeededApiFixture.Range, bearer: TestSites.ShopRead);

        var first = await otherSite.ProblemAsync(HttpStatusCode.NotFound);
        var second = await noSuchSite.ProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("site_not_found", first.Reason());
        Assert.Equal(first.GetProperty("detail").GetString(), second.GetProperty("detail").GetString());
        Assert.Equal(first.GetProperty("title").GetString(), second.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Basic_auth_is_not_a_read_key_and_a_secret_key_in_the_query_string_is_refused_even_beside_a_good_header()
    {
        using var basic = new HttpRequestMessage(HttpMethod.Get, ShopStats);
        basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("shop-read-key-0001:"u8.ToArray()));
        using var basicResponse = await seeded.Client.SendAsync(basic, Http.Ct);
        using var queryResponse = await seeded.Client.RequestAsync(ShopStats + "&key=" + TestSites.ShopRead);
        using var both = await seeded.Client.RequestAsync(ShopStats + "&key=" + TestSites.ShopRead, bearer: TestSites.ShopRead);
        using var writeKeyInUrl = await seeded.Client.RequestAsync(ShopStats + "&key=" + TestSites.ShopWrite);

        Assert.Equal("missing_key", (await basicResponse.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
        Assert.Equal("secret_key_in_url", (await queryResponse.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
        Assert.Equal("secret_key_in_url", (await both.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
        // A write key is public anyway: in the URL it is simply no key.
        Assert.Equal("missing_key", (await writeKeyInUrl.ProblemAsync(HttpStatusCode.Unauthorized)).Reason());
    }

    [Fact]
    public async Task The_key_is_checked_before_the_parameters()
    {
        using var response = await seeded.Client.RequestAsync("/v1/sites/shop/stats?from=garbage", bearer: TestSites.ShopWrite);

        Assert.Equal("key_cannot_read", (await response.ProblemAsync(HttpStatusCode.Forbidden)).Reason());
    }

    private Task<HttpResponseMessage> Send(string where, string key) =>
        where == "bearer" ? seeded.Client.RequestAsync(ShopStats, bearer: key) : seeded.Client.RequestAsync(ShopStats, headerKey: key);
}
