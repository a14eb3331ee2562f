using Insights.Enrichment.Device;

namespace Insights.Enrichment.Bots;

/// <summary>
/// A user agent's bot verdict and device, computed on a cache miss: headless-browser markers first (the more precise
/// reason), then the crawler list, then the device parser.
/// </summary>
internal sealed class UserAgentClassifier(CrawlerMatcher? crawlers)
{
    /// <summary>
    /// Automation that announces itself. Headless Chrome (which Puppeteer and Playwright drive by default) says
    /// "HeadlessChrome"; the rest name their tool. Browsers driven by WebDriver with a normal agent are not visible here.
    /// </summary>
    private static readonly string[] HeadlessMarkers =
    [
        "HeadlessChrome", "PhantomJS", "SlimerJS", "Puppeteer", "Playwright", "Selenium", "WebDriver", "webdriver",
        "HtmlUnit", "jsdom/", "Cypress/", "Nightmare", "ZombieJS", "Zombie.js", "Splash/", "Chrome-Lighthouse", "Headless",
    ];

    public CrawlerMatcher? Crawlers { get; } = crawlers;

    public UserAgentIntel Classify(string userAgent, int hash)
    {
        foreach (var marker in HeadlessMarkers)
        {
            if (userAgent.Contains(marker, StringComparison.Ordinal))
            {
                return Bot(userAgent, hash, DropReasons.HeadlessBrowser, marker, httpLibraryOnly: false);
            }
        }

        if (Crawlers?.Match(userAgent) is { } crawler)
        {
            return Bot(userAgent, hash, DropReasons.Crawler, crawler.Pattern, crawler.IsHttpLibrary);
        }

        return new UserAgentIntel(userAgent, hash, null, null, false, UserAgentParser.Parse(userAgent));
    }

    private static UserAgentIntel Bot(string userAgent, int hash, string reason, string name, bool httpLibraryOnly)
    {
        var device = UserAgentParser.Parse(userAgent);
        return new UserAgentIntel(userAgent, hash, reason, name, httpLibraryOnly,
            httpLibraryOnly ? device : device with { Type = DeviceTypes.Bot });
    }
}
