using Insights.Contracts;

namespace Insights.Enrichment.Tests;

public sealed class BotTests
{
    [Theory]
    [InlineData("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", DropReasons.Crawler)]
    [InlineData("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", DropReasons.Crawler)]
    [InlineData("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", DropReasons.Crawler)]
    [InlineData("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", DropReasons.Crawler)]
    [InlineData("Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", DropReasons.Crawler)]
    [InlineData("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", DropReasons.Crawler)]
    [InlineData("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)", DropReasons.Crawler)]
    [InlineData("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", DropReasons.Crawler)]
    [InlineData("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", DropReasons.Crawler)]
    [InlineData("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", DropReasons.Crawler)]
    [InlineData("DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", DropReasons.Crawler)]
    [InlineData("Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", DropReasons.Crawler)]
    [InlineData("curl/8.5.0", DropReasons.Crawler)]
    [InlineData("python-requests/2.32.3", DropReasons.Crawler)]
    [InlineData("Wget/1.21.4", DropReasons.Crawler)]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", DropReasons.HeadlessBrowser)]
    [InlineData("Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1", DropReasons.HeadlessBrowser)]
    [InlineData("Mozilla/5.0 (linux) AppleWebKit/537.36 (KHTML, like Gecko) jsdom/20.0.3", DropReasons.HeadlessBrowser)]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Cypress/13.6.0 Chrome/118.0.5993.159 Electron/27.1.3 Safari/537.36", DropReasons.HeadlessBrowser)]
    public void Crawlers_and_headless_browsers_are_dropped_with_a_reason(string userAgent, string reason)
    {
        var result = Pipelines.Real.Enrich(Pipelines.Event("139.48.1.1", userAgent));

        Assert.Equal(reason, result.DropReason);
        Assert.False(string.IsNullOrEmpty(result.BotName));
        Assert.Null(result.Business); // a bot's visit never counts for a company
    }

    [Theory]
    [MemberData(nameof(DeviceTests.Browsers), MemberType = typeof(DeviceTests))]
    public void Real_browsers_are_visitors(string userAgent, string browser, int? major, string os, string? osVersion, string type)
    {
        _ = (browser, major, os, osVersion, type);
        var result = Pipelines.Real.Enrich(Pipelines.Event("139.48.1.1", userAgent));

        Assert.Null(result.DropReason);
        Assert.Equal("Alberta Health Services", result.Business?.Name);
    }

    [Fact]
    public void Http_clients_count_as_bots_for_page_views_but_not_for_server_side_events()
    {
        // A shop backend reporting an order with python-requests is not a crawler; a page view from it is.
        var pipeline = Pipelines.Real;
        Assert.Equal(DropReasons.Crawler, pipeline.Enrich(Pipelines.Event("139.48.1.1", "python-requests/2.32.3", type: EventTypes.Pageview)).DropReason);
        var order = pipeline.Enrich(Pipelines.Event("139.48.1.1", "python-requests/2.32.3", type: EventTypes.Track));
        Assert.Null(order.DropReason);
        Assert.Equal("Alberta Health Services", order.Business?.Name);
    }

    [Fact]
    public void CDN_traffic_is_kept_by_default_and_dropped_when_configured()
    {
        // Cloudflare (AS13335) carries WARP users and iCloud Private Relay runs through CDNs: people, by default.
        var directory = TestData.RequireIpData();
        Assert.Null(Pipelines.Real.Enrich(Pipelines.Event("104.28.10.1", Agents.SafariIphone)).DropReason);

        using var strict = Pipelines.Create(o =>
        {
            o.DataDirectory = directory;
            o.CityDatabase = "";
            o.CityIpv6Database = "";
            o.AsnCsvIpv6 = "";
            o.DropCdnTraffic = true;
        });
        var result = strict.Enrich(Pipelines.Event("104.28.10.1", Agents.SafariIphone));
        Assert.Equal((DropReasons.Datacenter, "Cloudflare, Inc."), (result.DropReason, result.BotName));
    }

    [Fact]
    public void Search_engine_spider_networks_are_dropped()
    {
        using var pipeline = Pipelines.MaxMindOnly();

        // 67.43.156.0/24 has user_type search_engine_spider in the Enterprise test database.
        var result = pipeline.Enrich(Pipelines.Event("67.43.156.1"));
        Assert.Equal(DropReasons.SearchEngineSpider, result.DropReason);
    }

    [Fact]
    public void A_sites_own_range_keeps_a_visitor_whose_office_egress_is_a_hoster()
    {
        using var pipeline = Pipelines.MaxMindOnly(o => o.CompanyRanges = [new() { Cidr = "214.214.214.220/32", Company = "Acme (via cloud proxy)", Site = "shop" }]);

        // 214.214.214.220 is user_type hosting in the Enterprise test database.
        Assert.Equal(DropReasons.Datacenter, pipeline.Enrich(Pipelines.Event("214.214.214.220", site: "blog")).DropReason);
        var own = pipeline.Enrich(Pipelines.Event("214.214.214.220", site: "shop"));
        Assert.Null(own.DropReason);
        Assert.Equal("Acme (via cloud proxy)", own.Business?.Name);
    }

    [Fact]
    public void Bots_are_typed_as_bot_devices_and_skip_geo_and_company()
    {
        var result = Pipelines.Real.Enrich(Pipelines.Event("139.48.1.1", Agents.Googlebot));

        Assert.Equal(DeviceTypes.Bot, result.Device.Type);
        Assert.Null(result.Geo);
        Assert.Null(result.Company);
    }

    [Fact]
    public void The_headless_markers_and_the_crawler_list_work_without_any_ip_data()
    {
        using var pipeline = Pipelines.Create(o => o.CrawlerPatternsFile = Path.Combine(TestData.RequireIpData(), IpDataPackages.CrawlerUserAgents, "crawler-user-agents.json"));

        Assert.Equal(DropReasons.Crawler, pipeline.Enrich(Pipelines.Event(userAgent: Agents.Googlebot)).DropReason);
        Assert.Null(pipeline.Enrich(Pipelines.Event(userAgent: Agents.ChromeWindows)).DropReason);
    }

    [Fact]
    public void Every_instance_the_crawler_list_gives_is_recognised()
    {
        // The package lists example agents for each pattern: the compiled matcher must catch all of them.
        var path = Path.Combine(TestData.RequireIpData(), IpDataPackages.CrawlerUserAgents, "crawler-user-agents.json");
        var matcher = Bots.CrawlerMatcher.Load(path);
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        var instances = document.RootElement.EnumerateArray()
            .SelectMany(e => e.GetProperty("instances").EnumerateArray().Select(i => i.GetString()!))
            .ToList();

        Assert.True(matcher.Count >= 1_400, $"only {matcher.Count} patterns");
        Assert.True(instances.Count > 1_000);
        Assert.DoesNotContain(instances, i => matcher.Match(i) is null);
    }

    [Theory]
    [InlineData(@"Googlebot\/", true, "Googlebot/")]
    [InlineData("Ahrefs(Bot|SiteAudit)", false, "")]
    [InlineData(@"BlogTraffic\/\d\.\d+", false, "")]
    [InlineData("^curl", false, "")]
    [InlineData("bingbot", true, "bingbot")]
    public void Plain_text_patterns_are_separated_from_regular_expressions(string pattern, bool literal, string text)
    {
        Assert.Equal(literal, Bots.CrawlerMatcher.TryAsLiteral(pattern, out var parsed));
        Assert.Equal(text, parsed);
    }
}
