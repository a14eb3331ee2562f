using System.Text.Json;
using Insights.Attribution.Tests.Support;

namespace Insights.Dashboards.Tests;

/// <summary>
/// Every panel of every ClickHouse board runs on the migrated schema with Grafana's macros expanded, and returns rows of
/// the shape its visualization needs; the key panels show the query API's numbers for the same data.
/// </summary>
public sealed class DashboardQueryTests(DashboardData data) : IClassFixture<DashboardData>
{
    private const string SalesBoard = "insights-sales-goals.json";
    private const string CompaniesBoard = "insights-companies.json";
    private const string Range = "from=2026-05-04&to=2026-05-05";

    private static readonly string[] Models = ["last_chat", "first_chat", "linear", "time_decay", "chat_assisted", "during_chat"];

    public static TheoryData<string> AllQueries => [.. Boards.ClickHouseQueries().Select(q => q.ToString())];

    private static GrafanaMacros Macros(string model = "last_chat", TimeSpan? interval = null) =>
        new(DashboardData.Day, DashboardData.Day.AddDays(1), interval ?? TimeSpan.FromHours(1),
            new Dictionary<string, string>(StringComparer.Ordinal) { ["site"] = Ev.Site, ["model"] = model, ["window_days"] = "7" });

    [Fact]
    public void The_boards_are_on_the_clickhouse_data_source_and_the_new_ones_are_there()
    {
        var boards = Boards.ClickHouseQueries().GroupBy(q => q.Board).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(["insights-companies.json", "insights-sales-goals.json", "insights-traffic.json"], boards.Keys.Order(StringComparer.Ordinal));
        Assert.All(boards.Values, count => Assert.True(count >= 4));
    }

    [Theory]
    [MemberData(nameof(AllQueries))]
    public async Task Every_panel_query_runs_on_the_dev_stack_and_returns_rows_of_its_shape(string name)
    {
        var query = Boards.ClickHouseQueries().Single(q => q.ToString() == name);
        foreach (var model in query.Sql.Contains("${model}", StringComparison.Ordinal) ? Models : ["last_chat"])
        {
            var result = await data.RunAsync(query, Macros(model));

            Assert.True(result.Rows.Count > 0, $"{name} ({model}): no rows");
            Assert.Equal(result.Columns.Count, result.Columns.Distinct(StringComparer.Ordinal).Count());
            if (query.PanelType == "timeseries")
            {
                // Grafana plots a time series from a DateTime column named time, in time order.
                Assert.Equal("time", result.Columns[0]);
                Assert.Equal(typeof(DateTime), result.Types[0]);
                var times = result.Rows.Select(r => (DateTime)r[0]!).ToList();
                Assert.Equal(times.Order(), times);
                Assert.All(times, t => Assert.InRange(t, DashboardData.Day.UtcDateTime, DashboardData.Day.AddDays(1).UtcDateTime));
            }

            if (query.PanelType == "stat")
            {
                Assert.Single(result.Rows);
            }
        }
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public async Task Sales_panels_show_the_query_apis_numbers_under_every_model(string model)
    {
        var api = await data.ApiAsync($"/v1/sites/shop/sales?{Range}&model={model}");

        var totals = await data.RunAsync(Boards.Query(SalesBoard, "Revenue and orders"), Macros(model));
        Assert.Equal(api.GetProperty("revenue").GetDecimal(), totals.Money(0, "revenue"));
        Assert.Equal(api.GetProperty("orders").GetInt64(), totals.Long(0, "orders"));
        Assert.Equal(api.GetProperty("cancelledOrders").GetInt64(), totals.Long(0, "cancelled_orders"));
        Assert.Equal(api.GetProperty("refunds").GetDecimal(), totals.Money(0, "refunds"));
        Assert.Equal(api.GetProperty("averageOrderValue").GetDecimal(), totals.Money(0, "average_order_value"));
        Assert.Equal(api.GetProperty("unconvertedOrders").GetInt64(), totals.Long(0, "unconverted_orders"));

        var attributed = await data.RunAsync(Boards.Query(SalesBoard, "Chat-attributed revenue (${model})"), Macros(model));
        Assert.Equal(api.GetProperty("chatAttributedRevenue").GetDecimal(), attributed.Money(0, "chat_attributed_revenue"));
        Assert.Equal(api.GetProperty("chatAttributedOrders").GetInt64(), attributed.Long(0, "chat_attributed_orders"));
        Assert.Equal(api.GetProperty("chatAttributedShare").GetDouble(), attributed.Double(0, "chat_attributed_share"), 6);

        Assert.Equal(Groups(api.GetProperty("byAgent")), await BoardGroups("Attributed revenue by agent (${model})", "agent", model));
        Assert.Equal(Groups(api.GetProperty("byChannel")), await BoardGroups("Attributed revenue by channel (${model})", "channel", model));

        var conversion = api.GetProperty("conversion");
        var board = await data.RunAsync(Boards.Query(SalesBoard, "Chatted vs not-chatted conversion"), Macros(model));
        foreach (var (field, column) in new[]
        {
            ("visitors", "visitors"), ("chattedVisitors", "chatted_visitors"), ("chattedBuyers", "chatted_buyers"),
            ("notChattedVisitors", "not_chatted_visitors"), ("notChattedBuyers", "not_chatted_buyers"),
        })
        {
            Assert.True(conversion.GetProperty(field).GetInt64() == board.Long(0, column), $"{field}: API {conversion.GetProperty(field)}, board {board[0, column]}");
        }

        Assert.Equal(conversion.GetProperty("chattedConversionRate").GetDouble(), board.Double(0, "chatted_conversion_rate"), 6);
        Assert.Equal(conversion.GetProperty("notChattedConversionRate").GetDouble(), board.Double(0, "not_chatted_conversion_rate"), 6);

        // Daily buckets of the time series add up to the API's days.
        var daily = Macros(model, TimeSpan.FromDays(1));
        var revenue = await data.RunAsync(Boards.Query(SalesBoard, "Revenue and chat-attributed revenue (${model})", "A"), daily);
        var credited = await data.RunAsync(Boards.Query(SalesBoard, "Revenue and chat-attributed revenue (${model})", "B"), daily);
        var day = Assert.Single(api.GetProperty("byDay").EnumerateArray());
        Assert.Single(revenue.Rows);
        Assert.Equal(day.GetProperty("revenue").GetDecimal(), revenue.Money(0, "revenue"));
        Assert.Equal(day.GetProperty("orders").GetInt64(), revenue.Long(0, "orders"));
        Assert.Equal(day.GetProperty("chatAttributedRevenue").GetDecimal(),
            Enumerable.Range(0, credited.Rows.Count).Sum(i => credited.Money(i, "chat_attributed_revenue")));

        // The orders table lists every order of the range.
        var orders = await data.RunAsync(Boards.Query(SalesBoard, "Orders (${model} credit)"), Macros(model));
        Assert.Equal(["o1", "o2", "o3"], orders.Rows.Select((_, i) => orders.Text(i, "order_id")).Order(StringComparer.Ordinal));
    }

    public static TheoryData<string> ModelNames => [.. Models];

    [Fact]
    public async Task Last_chat_revenue_on_the_board_is_the_hand_computed_figure()
    {
        // 100 EUR at 1.10 + 50 USD + (30 - 10 refunded) USD; last chat: o1 -> c1 (ann, 110), o3 -> c2 (bob, 20).
        var totals = await data.RunAsync(Boards.Query(SalesBoard, "Revenue and orders"), Macros());
        var attributed = await data.RunAsync(Boards.Query(SalesBoard, "Chat-attributed revenue (${model})"), Macros());
        var agents = await BoardGroups("Attributed revenue by agent (${model})", "agent", "last_chat");

        Assert.Equal((180m, 3L), (totals.Money(0, "revenue"), totals.Long(0, "orders")));
        Assert.Equal(130m, attributed.Money(0, "chat_attributed_revenue"));
        Assert.Equal([("ann", 110m, 1L, 1L), ("bob", 20m, 1L, 1L)], agents);
        // The crawler's page view is not a visitor.
        var conversion = await data.RunAsync(Boards.Query(SalesBoard, "Chatted vs not-chatted conversion"), Macros());
        Assert.Equal(4, conversion.Long(0, "visitors"));
    }

    [Fact]
    public async Task Goal_panels_show_the_query_apis_completions_conversion_value_and_chat_assisted_share()
    {
        var api = await data.ApiAsync($"/v1/sites/shop/goals?{Range}");
        var board = await data.RunAsync(Boards.Query(SalesBoard, "Goals"), Macros());
        var rows = Enumerable.Range(0, board.Rows.Count).ToDictionary(i => board.Text(i, "goal"));

        var completed = api.GetProperty("goals").EnumerateArray().Where(g => g.GetProperty("completions").GetInt64() > 0).ToList();
        Assert.Equal(completed.Select(g => g.GetProperty("id").GetString()!).Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
        foreach (var goal in completed)
        {
            var i = rows[goal.GetProperty("id").GetString()!];
            Assert.Equal(goal.GetProperty("completions").GetInt64(), board.Long(i, "completions"));
            Assert.Equal(goal.GetProperty("converted").GetInt64(), board.Long(i, "converted"));
            Assert.Equal(goal.GetProperty("conversionRate").GetDouble(), board.Double(i, "conversion_rate"), 6);
            Assert.Equal(goal.GetProperty("value").GetDecimal(), board.Money(i, "value"));
            Assert.Equal(goal.GetProperty("chatAssistedCompletions").GetInt64(), board.Long(i, "chat_assisted_completions"));
            Assert.Equal(goal.GetProperty("chatAssistedShare").GetDouble(), board.Double(i, "chat_assisted_share"), 6);
        }

        // By hand: two thank-you pages worth 5 each, one after a chat by the same person (v2 is v1's user); three orders worth 190.
        Assert.Equal((2L, 10m, 1L), (board.Long(rows["thanks"], "completions"), board.Money(rows["thanks"], "value"), board.Long(rows["thanks"], "chat_assisted_completions")));
        Assert.Equal((3L, 190m, 2L), (board.Long(rows["buy"], "completions"), board.Money(rows["buy"], "value"), board.Long(rows["buy"], "chat_assisted_completions")));

        var series = await data.RunAsync(Boards.Query(SalesBoard, "Goal completions and value over time"), Macros(interval: TimeSpan.FromDays(1)));
        foreach (var goal in completed)
        {
            var id = goal.GetProperty("id").GetString();
            var row = Enumerable.Range(0, series.Rows.Count).Single(r => series.Text(r, "goal_id") == id);
            Assert.Equal(goal.GetProperty("completions").GetInt64(), series.Long(row, "completions"));
            Assert.Equal(goal.GetProperty("value").GetDecimal(), series.Money(row, "value"));
        }
    }

    [Fact]
    public async Task Company_panels_show_the_query_apis_visits_visitors_pages_and_last_seen()
    {
        var api = await data.ApiAsync($"/v1/sites/shop/companies?{Range}&sort=visits&limit=100");
        var board = await data.RunAsync(Boards.Query(CompaniesBoard, "Companies"), Macros());

        var expected = api.GetProperty("companies").EnumerateArray().Select(c => (
            c.GetProperty("id").GetString()!, c.GetProperty("name").GetString()!, c.GetProperty("visits").GetInt64(), c.GetProperty("visitors").GetInt64(),
            c.GetProperty("pageViews").GetInt64(), c.GetProperty("lastSeen").GetDateTimeOffset().UtcDateTime,
            string.Join(", ", c.GetProperty("topPages").EnumerateArray().Select(p => p.GetProperty("path").GetString())))).ToList();
        var shown = Enumerable.Range(0, board.Rows.Count).Select(i => (
            board.Text(i, "company_id"), board.Text(i, "company"), board.Long(i, "visits"), board.Long(i, "visitors"), board.Long(i, "page_views"),
            DateTime.SpecifyKind((DateTime)board[i, "last_seen"]!, DateTimeKind.Utc), board.Text(i, "top_pages"))).ToList();

        Assert.Equal(expected, shown);
        // By hand: Acme's two visits (s1's older version does not count again) with four page views; Globex one; v2's ISP is no company.
        Assert.Equal([("Acme Corp", 2L, 4L, "/product, /pricing, /thank-you"), ("Globex", 1L, 1L, "/product")],
            shown.Select(s => (s.Item2, s.Item3, s.Item5, s.Item7)));

        var overTime = await data.RunAsync(Boards.Query(CompaniesBoard, "Companies over time"), Macros(interval: TimeSpan.FromDays(1)));
        Assert.Equal((2L, 3L), (overTime.Long(0, "companies"), overTime.Long(0, "company_visits")));
    }

    [Fact]
    public async Task Live_panels_count_the_visitors_of_the_last_five_minutes_and_leave_bots_out()
    {
        var active = await data.RunAsync(Boards.Query(CompaniesBoard, "Active visitors"), Macros());
        Assert.Equal((2L, 1L, 2L), (active.Long(0, "visitors"), active.Long(0, "companies"), active.Long(0, "countries")));

        var visitors = await data.RunAsync(Boards.Query(CompaniesBoard, "Active visitors now"), Macros());
        Assert.Equal([("live-a", "/pricing", "Acme Corp", "DE"), ("live-b", "/docs", "", "FR")], Enumerable.Range(0, visitors.Rows.Count)
            .Select(i => (visitors.Text(i, "visitor"), visitors.Text(i, "page"), visitors.Text(i, "company"), visitors.Text(i, "country")))
            .OrderBy(v => v.Item1, StringComparer.Ordinal));

        var pages = await data.RunAsync(Boards.Query(CompaniesBoard, "Pages now"), Macros());
        Assert.Equal(["/", "/docs", "/pricing"], Enumerable.Range(0, pages.Rows.Count).Select(i => pages.Text(i, "page")).Order(StringComparer.Ordinal));
        var companies = await data.RunAsync(Boards.Query(CompaniesBoard, "Companies now"), Macros());
        Assert.Single(companies.Rows);
        Assert.Equal(("Acme Corp", 1L), (companies.Text(0, "company"), companies.Long(0, "visitors")));
        var countries = await data.RunAsync(Boards.Query(CompaniesBoard, "Countries now"), Macros());
        Assert.Equal(["DE", "FR"], Enumerable.Range(0, countries.Rows.Count).Select(i => countries.Text(i, "country_code")).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_macro_the_test_does_not_know_fails_instead_of_passing_through()
    {
        var macros = Macros();
        Assert.Contains("toDateTime(", macros.Expand("SELECT 1 WHERE $__timeFilter(timestamp)"), StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => macros.Expand("SELECT 1 WHERE $__dateFilter(day)"));
        Assert.Throws<InvalidOperationException>(() => macros.Expand("SELECT '${unknown}'"));
    }

    private async Task<List<(string, decimal, long, long)>> BoardGroups(string panel, string key, string model)
    {
        var result = await data.RunAsync(Boards.Query(SalesBoard, panel), Macros(model));
        return [.. Enumerable.Range(0, result.Rows.Count).Select(i => (result.Text(i, key), result.Money(i, "revenue"), result.Long(i, "orders"), result.Long(i, "chats")))];
    }

    private static List<(string, decimal, long, long)> Groups(JsonElement groups) =>
        [.. groups.EnumerateArray().Select(g => (g.GetProperty("key").GetString()!, g.GetProperty("revenue").GetDecimal(), g.GetProperty("orders").GetInt64(),
            g.GetProperty("chats").GetInt64()))];
}
