using ClickHouse.Driver;
using Insights.DevStack.Testing;

namespace Insights.QueryApi.Tests.Support;

/// <summary>
/// A hand-made <c>sessions</c> row, as the processors write one (migration 0004): a visit, the company behind its
/// network (only businesses have one), its pages. <see cref="Version"/> &gt; 1 with the same id is a later state of the
/// same visit, which replaces the earlier one in every report.
/// </summary>
public sealed record TestVisit(
    string Id, string Visitor, DateTime StartedAt, string[] Pages, string CompanyId = "", string CompanyName = "",
    string Site = TestSites.Shop, uint PageViews = 0, ulong Version = 1, string NetworkKind = "", string Country = "CA")
{
    public static readonly string[] Columns =
    [
        "session_id", "site_id", "anonymous_id", "opened_at", "started_at", "ended_at", "entry_at", "exit_at", "duration",
        "page_views", "events", "bounce", "entry_page", "exit_page", "pages", "channel", "country", "device_type", "browser", "os",
        "network_kind", "company_id", "company_name", "version", "region", "city", "referrer_host", "utm_source", "utm_medium",
        "utm_campaign", "user_id", "company_domain",
    ];

    public string Channel { get; init; } = "direct";

    public string Region { get; init; } = "";

    public string City { get; init; } = "";

    public string ReferrerHost { get; init; } = "";

    public string UtmSource { get; init; } = "";

    public string UtmMedium { get; init; } = "";

    public string UtmCampaign { get; init; } = "";

    public string UserId { get; init; } = "";

    public string CompanyDomain { get; init; } = "";

    public string DeviceType { get; init; } = "desktop";

    public string Browser { get; init; } = "Chrome";

    public string Os { get; init; } = "Windows";

    public object[] Row()
    {
        var views = PageViews == 0 ? (uint)Pages.Length : PageViews;
        var ended = StartedAt.AddMinutes(Math.Max(0, views - 1));
        return
        [
            Id, Site, Visitor, StartedAt, StartedAt, ended, StartedAt, ended, (uint)(ended - StartedAt).TotalSeconds,
            views, views, views == 1, Pages.FirstOrDefault() ?? "", Pages.LastOrDefault() ?? "", Pages, Channel, Country, DeviceType, Browser, Os,
            NetworkKind.Length > 0 ? NetworkKind : CompanyId.Length > 0 ? "business" : "consumer_isp", CompanyId, CompanyName, Version,
            Region, City, ReferrerHost, UtmSource, UtmMedium, UtmCampaign, UserId, CompanyDomain,
        ];
    }
}

public static class VisitsDatabaseExtensions
{
    /// <summary>One INSERT of visits (one part: rows from separate calls stay unmerged versions until a merge).</summary>
    public static async Task InsertVisitsAsync(this DevStackFixture stack, string database, params TestVisit[] visits)
    {
        using var client = new ClickHouseClient(stack.ConnectionString(database));
        await client.InsertBinaryAsync("sessions", TestVisit.Columns, visits.Select(v => v.Row()),
            new InsertOptions { CustomSettings = new Dictionary<string, object> { ["insert_deduplicate"] = 0 } },
            TestContext.Current.CancellationToken);
    }

    /// <summary>An event the processors flagged as not a visitor's (bot_reason: crawler, headless_browser, datacenter …).</summary>
    public static async Task InsertBotEventAsync(this DevStackFixture stack, string database, string eventId, string visitor, DateTime at, string reason)
    {
        using var client = new ClickHouseClient(stack.ConnectionString(database));
        await client.InsertBinaryAsync("events", ["event_id", "site_id", "type", "timestamp", "received_at", "anonymous_id", "url", "path", "bot_reason"],
            [[eventId, TestSites.Shop, "pageview", at, at, visitor, "https://shop.example/pricing", "/pricing", reason]],
            cancellationToken: TestContext.Current.CancellationToken);
    }
}
