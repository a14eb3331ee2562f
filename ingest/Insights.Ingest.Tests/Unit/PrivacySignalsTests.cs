using Insights.Contracts;
using Insights.Ingest.Privacy;
using Microsoft.AspNetCore.Http;

namespace Insights.Ingest.Tests.Unit;

/// <summary>Do-Not-Track and Global Privacy Control, honoured as each site chooses.</summary>
public sealed class PrivacySignalsTests
{
    [Theory]
    [InlineData("DNT", "1", PrivacySignals.DoNotTrack)]
    [InlineData("dnt", " 1 ", PrivacySignals.DoNotTrack)]
    [InlineData("Sec-GPC", "1", PrivacySignals.GlobalPrivacyControl)]
    [InlineData("DNT", "0", null)]
    [InlineData("Sec-GPC", "0", null)]
    [InlineData("DNT", "", null)]
    [InlineData("DNT", "yes", null)]
    [InlineData("X-Other", "1", null)]
    public void A_site_that_honours_the_signals_refuses_the_request(string header, string value, string? reason)
    {
        var headers = new HeaderDictionary { [header] = value };
        Assert.Equal(reason, PrivacySignals.OptOut(new SiteOptions { Id = "demo" }, headers));
    }

    [Fact]
    public void Each_signal_is_honoured_only_where_the_site_says_so()
    {
        var both = new HeaderDictionary { ["DNT"] = "1", ["Sec-GPC"] = "1" };
        Assert.Equal(PrivacySignals.GlobalPrivacyControl, PrivacySignals.OptOut(new SiteOptions { Id = "demo" }, both));
        Assert.Equal(PrivacySignals.DoNotTrack, PrivacySignals.OptOut(new SiteOptions { Id = "demo", HonorGlobalPrivacyControl = false }, both));
        Assert.Equal(PrivacySignals.GlobalPrivacyControl, PrivacySignals.OptOut(new SiteOptions { Id = "demo", HonorDoNotTrack = false }, both));
        Assert.Null(PrivacySignals.OptOut(new SiteOptions { Id = "demo", HonorDoNotTrack = false, HonorGlobalPrivacyControl = false }, both));
    }

    [Fact]
    public void A_header_a_proxy_repeated_still_counts()
    {
        var headers = new HeaderDictionary { ["DNT"] = new Microsoft.Extensions.Primitives.StringValues(["0", "1"]) };
        Assert.Equal(PrivacySignals.DoNotTrack, PrivacySignals.OptOut(new SiteOptions { Id = "demo" }, headers));
    }
}
