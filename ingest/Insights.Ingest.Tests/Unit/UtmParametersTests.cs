using Insights.Ingest.Parsing;

namespace Insights.Ingest.Tests.Unit;

public sealed class UtmParametersTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("https://shop.example/")]
    [InlineData("https://shop.example/utm_source/path")]
    [InlineData("https://shop.example/#?utm_source=fragment")]
    [InlineData("https://shop.example/?xutm_source=a&my_utm_medium=b")]
    public void Urls_without_utm_query_parameters_have_no_campaign(string? url) =>
        Assert.Equal(default, UtmParameters.FromUrl(url));

    [Fact]
    public void All_five_are_read_and_decoded()
    {
        var utm = UtmParameters.FromUrl("https://s.example/p?a=1&utm_source=news+letter&utm_medium=e%2Dmail&utm_campaign=%E2%98%83&utm_term=t&utm_content=c#utm_term=no");

        Assert.Equal(new UtmParameters("news letter", "e-mail", "\u2603", "t", "c"), utm);
    }

    [Fact]
    public void The_first_occurrence_wins_and_empty_values_are_absent()
    {
        var utm = UtmParameters.FromUrl("/p?utm_source=first&utm_source=second&utm_medium=&utm_term");

        Assert.Equal(new UtmParameters("first", null, null, null, null), utm);
    }

    [Fact]
    public void Malformed_escapes_stay_as_typed()
    {
        Assert.Equal("100%zz", UtmParameters.FromUrl("/?utm_source=100%zz").Source);
        Assert.Equal("%", UtmParameters.FromUrl("/?utm_source=%").Source);
    }
}
