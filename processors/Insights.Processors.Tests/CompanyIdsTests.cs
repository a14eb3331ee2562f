using System.Text.RegularExpressions;

namespace Insights.Processors.Tests;

public sealed partial class CompanyIdsTests
{
    [Theory]
    [InlineData("Alberta Health Services", "alberta-health-services-")]
    [InlineData("Example Widgets, Inc.", "example-widgets-inc-")]
    [InlineData("Société Générale", "soci-t-g-n-rale-")]
    [InlineData("中国电信", "company-")]
    [InlineData("'; DROP TABLE events; --", "drop-table-events-")]
    public void An_id_is_a_readable_slug_and_a_hash_in_the_shape_the_query_api_accepts(string name, string prefix)
    {
        var id = CompanyIds.Of(name);

        Assert.StartsWith(prefix, id, StringComparison.Ordinal);
        Assert.Matches(Shape(), id);
    }

    [Fact]
    public void The_id_ignores_case_and_spacing_but_tells_names_with_the_same_slug_apart()
    {
        Assert.Equal(CompanyIds.Of("Alberta Health Services"), CompanyIds.Of("  ALBERTA  health services "));
        Assert.NotEqual(CompanyIds.Of("A&B Consulting"), CompanyIds.Of("A-B Consulting"));
    }

    [Fact]
    public void A_very_long_name_gives_a_bounded_id() =>
        Assert.InRange(CompanyIds.Of(new string('x', 10_000)).Length, 10, 64);

    [GeneratedRegex(@"^[a-z0-9]+(-[a-z0-9]+)*-[0-9a-f]{8}\z")]
    private static partial Regex Shape();
}
