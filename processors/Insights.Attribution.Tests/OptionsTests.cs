using Insights.Attribution.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Insights.Attribution.Tests;

/// <summary>A site attribution cannot attribute correctly stops the start-up with a message naming the setting.</summary>
public sealed class OptionsTests
{
    [Theory]
    [InlineData("Sites:0:Goals:0:Kind", "pageview", "Sites:0:Goals:0:Kind")]
    [InlineData("Sites:0:Goals:0:UrlPattern", "", "Sites:0:Goals:0:UrlPattern")]
    [InlineData("Sites:0:Goals:1:Id", "thanks", "Sites:0:Goals:1:Id")]
    [InlineData("Sites:0:CurrencyRates:EURO", "1.1", "Sites:0:CurrencyRates:EURO")]
    [InlineData("Sites:0:CurrencyRates:EUR", "-1", "Sites:0:CurrencyRates:EUR")]
    [InlineData("Sites:0:ReportingCurrency", "usd", "Sites:0:ReportingCurrency")]
    [InlineData("Sites:0:AttributionWindowDays", "0", "Sites:0:AttributionWindowDays")]
    [InlineData("Attribution:GroupId", "two words", "Attribution:GroupId")]
    [InlineData("Attribution:MaxComponentNodes", "1", "Attribution:MaxComponentNodes")]
    public void A_bad_setting_fails_the_start_naming_it(string key, string value, string named)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Sites:0:Id"] = "shop",
            ["Sites:0:Goals:0:Id"] = "thanks",
            ["Sites:0:Goals:0:Kind"] = "page",
            ["Sites:0:Goals:0:UrlPattern"] = "/thank-you",
            ["Sites:0:Goals:1:Id"] = "buy",
            ["Sites:0:Goals:1:Kind"] = "order_placed",
            [key] = value,
        };

        var error = Assert.Throws<OptionsValidationException>(() => Build(settings).Services.GetRequiredService<IOptions<AttributionOptions>>().Value);

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_host_without_sites_or_settings_starts_with_the_defaults()
    {
        using var host = Build([]);
        var options = host.Services.GetRequiredService<IOptions<AttributionOptions>>().Value;

        Assert.Equal(("insights-attribution", true, 5_000), (options.GroupId, options.Enabled, options.MaxComponentNodes));
        Assert.NotNull(host.Services.GetService<AttributionStep>());
    }

    [Fact]
    public void Attribution_can_be_left_out_of_a_host()
    {
        using var host = Build(new Dictionary<string, string?> { ["Attribution:Enabled"] = "false" });

        Assert.Null(host.Services.GetService<AttributionStep>());
        Assert.Null(host.Services.GetService<AttributionProgress>());
    }

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddAttribution();
        return builder.Build();
    }
}
