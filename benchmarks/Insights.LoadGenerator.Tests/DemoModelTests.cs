using System.Text.Json;
using Insights.LoadGenerator.Demo;

namespace Insights.LoadGenerator.Tests;

/// <summary>The demo's history: the same every time (so a restart's re-sent days collapse), and shaped like a business.</summary>
public sealed class DemoModelTests
{
    private static readonly DateOnly Today = new(2026, 12, 4);

    [Fact]
    public void A_day_is_the_same_for_the_same_site_day_and_seed_and_differs_for_another_day_or_seed()
    {
        var day = Today.AddDays(-3);
        var first = new DemoModel(DemoSite.Clients[0]).Day(day, Today, 30);
        var again = new DemoModel(DemoSite.Clients[0]).Day(day, Today, 30);

        Assert.Equal(first.Select(e => e.Json), again.Select(e => e.Json));
        Assert.NotEqual(first.Select(e => e.Json), new DemoModel(DemoSite.Clients[0]).Day(day.AddDays(-1), Today, 30).Select(e => e.Json));
        Assert.NotEqual(first.Select(e => e.Json), new DemoModel(DemoSite.Clients[0], seed: 2).Day(day, Today, 30).Select(e => e.Json));
    }

    [Fact]
    public void A_month_has_page_views_from_companies_chats_orders_after_chats_and_sign_ups_with_unique_ids_in_time_order()
    {
        var model = new DemoModel(DemoSite.Clients[1]);
        var events = Enumerable.Range(0, 30).SelectMany(d => model.Day(Today.AddDays(-d), Today, 30)).ToList();
        var parsed = events.Select(e => JsonDocument.Parse(e.Json).RootElement).ToList();
        string Type(JsonElement e) => e.GetProperty("type").GetString()!;

        Assert.InRange(parsed.Count(e => Type(e) == "pageview"), 3000, 12000);
        Assert.Equal(parsed.Count, parsed.Select(e => e.GetProperty("messageId").GetString()).Distinct().Count());
        var chats = parsed.Where(e => Type(e) == "chat_started").ToList();
        var orders = parsed.Where(e => Type(e) == "order").ToList();
        Assert.InRange(chats.Count, 60, 600);
        Assert.Equal(chats.Count, parsed.Count(e => Type(e) == "chat_ended"));
        Assert.InRange(orders.Count, 40, 400);
        Assert.Contains(parsed, e => Type(e) == "track" && e.GetProperty("event").GetString() == "signup");
        Assert.Equal(orders.Select(o => o.GetProperty("anonymousId").GetString()).Order(),
            parsed.Where(e => Type(e) == "identify").Select(e => e.GetProperty("anonymousId").GetString()).Order());

        // Chat-attributed revenue needs orders placed after a chat by the same visitor.
        var chatted = chats.Select(c => c.GetProperty("anonymousId").GetString()).ToHashSet();
        Assert.True(orders.Count(o => chatted.Contains(o.GetProperty("anonymousId").GetString())) >= 20);

        // Every event names a real network and a browser (the server key speaks for the visitor), and a visit's own
        // events are in time order.
        Assert.All(parsed, e => Assert.False(string.IsNullOrEmpty(e.GetProperty("context").GetProperty("ip").GetString())));
        Assert.All(parsed, e => Assert.StartsWith("Mozilla/5.0", e.GetProperty("context").GetProperty("userAgent").GetString(), StringComparison.Ordinal));
        foreach (var day in Enumerable.Range(0, 30).Select(d => model.Day(Today.AddDays(-d), Today, 30)))
        {
            Assert.Equal(day.OrderBy(e => e.At).Select(e => e.Json), day.Select(e => e.Json));
        }

        // Company people come back on several days: that is what makes a lead.
        var companyVisitors = parsed.Select(e => e.GetProperty("anonymousId").GetString()!)
            .Where(v => !v.Contains("-h2", StringComparison.Ordinal)).Distinct().ToList();
        Assert.InRange(companyVisitors.Count, 8, 24);
    }

    [Fact]
    public void Weekends_are_quieter_than_weekdays_and_the_month_grows()
    {
        var model = new DemoModel(DemoSite.Clients[0]);
        int Views(int daysAgo) => model.Day(Today.AddDays(-daysAgo), Today, 30).Count(e => e.Json.Contains("\"pageview\"", StringComparison.Ordinal));
        var days = Enumerable.Range(0, 28).Select(d => (Day: Today.AddDays(-d), Views: Views(d))).ToList();

        var weekend = days.Where(d => d.Day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday).Average(d => d.Views);
        var weekdays = days.Where(d => d.Day.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)).Average(d => d.Views);
        Assert.True(weekend < weekdays * 0.8, $"weekend {weekend:N0} vs weekdays {weekdays:N0}");
        Assert.True(days.Take(14).Sum(d => d.Views) > days.Skip(14).Sum(d => d.Views), "the latest two weeks are busier than the two before");
    }

    [Fact]
    public void A_live_visit_starts_now_and_lasts_minutes()
    {
        var model = new DemoModel(DemoSite.Showcase);
        var start = DateTimeOffset.UtcNow;
        var visit = model.Visit(new Random(7), start, "l1", companyShare: 1, live: true);

        Assert.Equal(start, visit.Min(e => e.At));
        Assert.InRange((visit.Max(e => e.At) - start).TotalMinutes, 0.25, 20);
        Assert.All(visit, e => Assert.StartsWith("demo-", JsonDocument.Parse(e.Json).RootElement.GetProperty("anonymousId").GetString(), StringComparison.Ordinal));
    }
}
