using Insights.Attribution.Engine;
using Insights.Contracts;

namespace Insights.Attribution.Tests;

/// <summary>The rules follow the control plane: a change to a site is used from the next batch on, without a restart.</summary>
public sealed class SiteRulebookTests
{
    [Fact]
    public void A_site_changed_in_the_catalog_is_attributed_with_its_new_rules()
    {
        var catalog = new SiteCatalog([new SiteOptions { Id = "shop", ReportingCurrency = "EUR", AttributionWindowDays = 7 }]);
        var rulebook = new SiteRulebook(catalog, new EngineSettings());
        Assert.Equal(("EUR", TimeSpan.FromDays(7), 0), (rulebook.For("shop").ReportingCurrency, rulebook.For("shop").Window, rulebook.For("shop").Goals.Count));

        catalog.Replace(
            [new SiteOptions { Id = "shop", ReportingCurrency = "USD", AttributionWindowDays = 30, Goals = [new SiteGoal { Id = "chat", Kind = "chat_started" }] }],
            []);

        Assert.Equal(("USD", TimeSpan.FromDays(30), 1), (rulebook.For("shop").ReportingCurrency, rulebook.For("shop").Window, rulebook.For("shop").Goals.Count));
    }

    [Fact]
    public void A_site_added_later_stops_using_the_defaults()
    {
        var catalog = new SiteCatalog([]);
        var rulebook = new SiteRulebook(catalog, new EngineSettings());
        Assert.Equal("USD", rulebook.For("late").ReportingCurrency);

        catalog.Replace([new SiteOptions { Id = "late", ReportingCurrency = "GBP" }], []);

        Assert.Equal("GBP", rulebook.For("late").ReportingCurrency);
    }
}
