using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Insights.Attribution.Tests.Support;
using Insights.Contracts;
using Insights.DevStack.Testing;
using Microsoft.Extensions.Hosting;
using static Insights.Attribution.Tests.Support.Ev;

namespace Insights.Attribution.Tests;

/// <summary>
/// Kafka → the processors (attribution in their batches) → ClickHouse → the query API, on the dev stack: exact money per model, a chat that
/// arrives after its order, a person on two devices, a refund, two currencies, and a full replay that changes nothing.
/// </summary>
public sealed class EndToEndTests(DevStackFixture stack)
{
    private static readonly DateTimeOffset D = new(2026, 5, 4, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Chats_orders_and_a_replay_give_exact_sales_goals_and_order_paths()
    {
        var pipeline = await DevStackPipeline.CreateAsync(stack);
        var pageviews = new[]
        {
            Pageview("v1", D.Hours(9.9), "https://shop.example/product"),
            Pageview("v2", D.Hours(11.9), "https://shop.example/cart"),
            Pageview("v2", D.Hours(12.02), "https://shop.example/thank-you"),
            Pageview("v3", D.Hours(12.9), "https://shop.example/product"),
            Pageview("v3", D.Hours(13.02), "https://shop.example/thank-you"),
            Pageview("v4", D.Hours(13.9), "https://shop.example/product"),
        };
        await pipeline.InsertPageviewsAsync(pageviews);
        var first = new List<PipelineEvent>(pageviews)
        {
            // v1 (a laptop) chats with ann; v2 (a phone) is the same user and buys for 100 EUR.
            ChatStarted("c1", "v1", D.Hours(10), agent: "ann", channel: "website"),
            ChatMessage("c1", "v1", D.Hours(10.1)),
            ChatEnded("c1", "v1", D.Hours(10.3), agent: "ann"),
            Identify("v1", D.Hours(10.3), user: "u1"),
            Identify("v2", D.Hours(11.9), user: "u1"),
            Order("o1", "v2", D.Hours(12), 100m, "EUR"),
            // v3 buys without a chat.
            Order("o2", "v3", D.Hours(13), 50m, "USD"),
            // v4 chats with bob on WhatsApp and buys for 30 USD, then gets 10 back.
            ChatStarted("c2", "v4", D.Hours(14), agent: "bob", channel: "whatsapp"),
            Order("o3", "v4", D.Hours(14).AddMinutes(10), 30m, "USD"),
            Refund("o3", D.Hours(15), 10m, "USD"),
        };
        await pipeline.ProduceAsync(first);

        await using var processors = await pipeline.StartProcessorsAsync();
        await Eventually.TrueAsync(async () => await pipeline.ScalarAsync<ulong>(
            "SELECT count() FROM orders FINAL WHERE net_reporting IS NOT NULL AND refunded > 0") == 1, "orders attributed");
        await Eventually.TrueAsync(() => Task.FromResult(pipeline.CaughtUp()), "first events attributed");

        await using var api = pipeline.StartQueryApi();
        using var http = api.CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", DevStackPipeline.ReadKey);
        const string day = "from=2026-05-04&to=2026-05-05";

        var sales = await GetAsync(http, $"/v1/sites/shop/sales?{day}&model=last_chat", api);
        Assert.Equal(3, sales.GetProperty("orders").GetInt64());
        Assert.Equal(180m, sales.GetProperty("revenue").GetDecimal()); // 110 (100 EUR) + 50 + 20
        Assert.Equal(110m + 20m, sales.GetProperty("chatAttributedRevenue").GetDecimal());
        Assert.Equal("ann", sales.GetProperty("byAgent")[0].GetProperty("key").GetString());

        // A chat on the phone an hour before the order arrives late: it takes "last chat" from the laptop's chat.
        var late = new[] { ChatStarted("c3", "v2", D.Hours(11), agent: "bob", channel: "whatsapp"), ChatEnded("c3", "v2", D.Hours(11.5)) };
        await pipeline.ProduceAsync(late);
        await Eventually.TrueAsync(async () => await pipeline.ScalarAsync<ulong>(
            "SELECT count() FROM attribution_credits FINAL WHERE order_id = 'o1' AND model = 'last_chat' AND chat_id = 'c3' AND share = 1") == 1,
            "the late chat credited");

        // Every event delivered again (a consumer that crashed before committing): nothing may change. Merges stop first,
        // so the rows the replay writes stay visible beside the old ones until FINAL (a merge on a busy machine would
        // collapse them early and hide that the replay ran at all).
        using (var client = pipeline.ClickHouse())
        {
            await client.ExecuteNonQueryAsync("SYSTEM STOP MERGES attribution_credits", cancellationToken: TestContext.Current.CancellationToken);
        }

        await pipeline.ProduceAsync(first.Concat(late));
        await Eventually.TrueAsync(() => Task.FromResult(pipeline.CaughtUp()), "replay attributed");
        Assert.True(await pipeline.ScalarAsync<ulong>("SELECT count() FROM attribution_credits") > await pipeline.ScalarAsync<ulong>(
            "SELECT count() FROM attribution_credits FINAL"), "the replay wrote rows again (and FINAL collapses them)");

        sales = await GetAsync(http, $"/v1/sites/shop/sales?{day}&model=last_chat", api);
        Assert.Equal("USD", sales.GetProperty("currency").GetString());
        Assert.Equal(3, sales.GetProperty("orders").GetInt64());
        Assert.Equal(180m, sales.GetProperty("revenue").GetDecimal());
        Assert.Equal(10m, sales.GetProperty("refunds").GetDecimal());
        Assert.Equal(60m, sales.GetProperty("averageOrderValue").GetDecimal());
        Assert.Equal(130m, sales.GetProperty("chatAttributedRevenue").GetDecimal()); // o1 → c3 (110), o3 → c2 (20)
        Assert.Equal(2, sales.GetProperty("chatAttributedOrders").GetInt64());
        Assert.Equal(0, sales.GetProperty("unconvertedOrders").GetInt64());
        var bob = Assert.Single(sales.GetProperty("byAgent").EnumerateArray());
        Assert.Equal(("bob", 130m, 2L), (bob.GetProperty("key").GetString(), bob.GetProperty("revenue").GetDecimal(), bob.GetProperty("orders").GetInt64()));
        Assert.Equal("whatsapp", Assert.Single(sales.GetProperty("byChannel").EnumerateArray()).GetProperty("key").GetString());
        var conversion = sales.GetProperty("conversion");
        Assert.Equal((4L, 2L, 2L, 1.0), (conversion.GetProperty("visitors").GetInt64(), conversion.GetProperty("chattedVisitors").GetInt64(),
            conversion.GetProperty("chattedBuyers").GetInt64(), conversion.GetProperty("chattedConversionRate").GetDouble()));
        Assert.Equal((2L, 1L, 0.5), (conversion.GetProperty("notChattedVisitors").GetInt64(), conversion.GetProperty("notChattedBuyers").GetInt64(),
            conversion.GetProperty("notChattedConversionRate").GetDouble()));
        var days = sales.GetProperty("byDay");
        Assert.Equal(1, days.GetArrayLength());
        Assert.Equal((3L, 180m, 130m), (days[0].GetProperty("orders").GetInt64(), days[0].GetProperty("revenue").GetDecimal(),
            days[0].GetProperty("chatAttributedRevenue").GetDecimal()));

        var linear = await GetAsync(http, $"/v1/sites/shop/sales?{day}&model=linear", api);
        Assert.Equal(130m, linear.GetProperty("chatAttributedRevenue").GetDecimal());
        Assert.Equal([("bob", 75m), ("ann", 55m)], linear.GetProperty("byAgent").EnumerateArray()
            .Select(a => (a.GetProperty("key").GetString(), a.GetProperty("revenue").GetDecimal())));
        var during = await GetAsync(http, $"/v1/sites/shop/sales?{day}&model=during_chat", api);
        Assert.Equal(130m, during.GetProperty("chatAttributedRevenue").GetDecimal()); // c3 ended 30 min before o1, o3 10 min into c2
        var assisted = await GetAsync(http, $"/v1/sites/shop/sales?{day}&model=chat_assisted", api);
        Assert.Equal(130m, assisted.GetProperty("chatAttributedRevenue").GetDecimal());
        Assert.Equal([("ann", 110m), ("bob", 130m)], assisted.GetProperty("byAgent").EnumerateArray()
            .Select(a => (a.GetProperty("key").GetString(), a.GetProperty("revenue").GetDecimal())).OrderBy(a => a.Item1));

        var goals = await GetAsync(http, $"/v1/sites/shop/goals?{day}", api);
        Assert.Equal(4, goals.GetProperty("visitors").GetInt64());
        var byId = goals.GetProperty("goals").EnumerateArray().ToDictionary(g => g.GetProperty("id").GetString()!);
        Assert.Equal(["thanks", "chat", "buy", "never"], byId.Keys);
        // Thank-you: v2 (after chats by the same person) and v3 (no chat); worth 5 each.
        Assert.Equal((2L, 2L, 0.5, 10m, 1L, 0.5), Stats(byId["thanks"]));
        Assert.Equal("Thank-you page", byId["thanks"].GetProperty("name").GetString());
        // Orders: worth their amount in USD (110 + 50 + 30); o1 and o3 followed chats.
        Assert.Equal((3L, 3L, 0.75, 190m, 2L, 0.666667), Stats(byId["buy"]));
        Assert.Equal(3, byId["chat"].GetProperty("completions").GetInt64());
        Assert.Equal(2, byId["chat"].GetProperty("converted").GetInt64());
        Assert.Equal((0L, 0L, 0.0, 0m, 0L, 0.0), Stats(byId["never"]));

        var path = await GetAsync(http, "/v1/sites/shop/orders/o1", api);
        Assert.Equal(("EUR", 100m, 110m, "a:v1"), (path.GetProperty("currency").GetString(), path.GetProperty("net").GetDecimal(),
            path.GetProperty("netReporting").GetDecimal(), path.GetProperty("personId").GetString()));
        Assert.Equal(["anonymous:v1", "anonymous:v2", "user:u1"], path.GetProperty("ids").EnumerateArray()
            .Select(i => $"{i.GetProperty("kind").GetString()}:{i.GetProperty("id").GetString()}"));
        var chats = path.GetProperty("chats").EnumerateArray().ToList();
        Assert.Equal(["c1", "c3"], chats.Select(c => c.GetProperty("chatId").GetString()));
        var c3 = chats[1].GetProperty("credits").EnumerateArray().ToDictionary(c => c.GetProperty("model").GetString()!, c => c.GetProperty("amount").GetDecimal());
        Assert.Equal(new Dictionary<string, decimal>
        {
            ["chat_assisted"] = 100m, ["during_chat"] = 100m, ["first_chat"] = 0m, ["last_chat"] = 100m, ["linear"] = 50m,
            // 1 h and 2 h before the order at a 24 h half-life: weights 1 and 2^(-1/24) = 0.971532; 100 × 1/1.971532 = 50.7220.
            ["time_decay"] = 50.7220m,
        }, c3);
        Assert.Equal(["/product", "/cart"], path.GetProperty("sessions").EnumerateArray()
            .SelectMany(s => s.GetProperty("pages").EnumerateArray()).Select(p => p.GetProperty("path").GetString()));
        Assert.Equal(1, path.GetProperty("events").GetArrayLength());

        var refunded = await GetAsync(http, "/v1/sites/shop/orders/o3", api);
        Assert.Equal((30m, 10m, 20m), (refunded.GetProperty("amount").GetDecimal(), refunded.GetProperty("refunded").GetDecimal(),
            refunded.GetProperty("net").GetDecimal()));
        Assert.Equal(["order", "order_refunded"], refunded.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()));

        // The goals over two days: the series has both, the empty one as zeros, and adds up to the totals.
        var twoDays = await GetAsync(http, "/v1/sites/shop/goals?from=2026-05-03&to=2026-05-05", api);
        var thanks = twoDays.GetProperty("goals").EnumerateArray().Single(g => g.GetProperty("id").GetString() == "thanks");
        Assert.Equal(["2026-05-03 0/0/0/0 of 0 = 0", "2026-05-04 2/2/10/1 of 4 = 0.5"], thanks.GetProperty("series").EnumerateArray().Select(d =>
            $"{d.GetProperty("date").GetString()} {d.GetProperty("completions").GetInt64()}/{d.GetProperty("converted").GetInt64()}/" +
            $"{d.GetProperty("value").GetDecimal():0}/{d.GetProperty("chatAssistedCompletions").GetInt64()} " +
            $"of {d.GetProperty("visitors").GetInt64()} = {d.GetProperty("conversionRate").GetDouble().ToString(System.Globalization.CultureInfo.InvariantCulture)}"));

        // The orders list: most recent first, each with every model's credit in the reporting currency.
        var orders = await GetAsync(http, $"/v1/sites/shop/orders?{day}", api);
        Assert.Equal((3L, "last_chat", "USD"), (orders.GetProperty("total").GetInt64(), orders.GetProperty("model").GetString(),
            orders.GetProperty("reportingCurrency").GetString()));
        var list = orders.GetProperty("orders").EnumerateArray().ToList();
        Assert.Equal(["o3", "o2", "o1"], list.Select(o => o.GetProperty("orderId").GetString()));
        Assert.Equal((20m, 20m, 1L), (list[0].GetProperty("netReporting").GetDecimal(), list[0].GetProperty("attributedRevenue").GetDecimal(),
            list[0].GetProperty("chatsInWindow").GetInt64()));
        Assert.Equal((0L, 0m), (list[1].GetProperty("chatsInWindow").GetInt64(), list[1].GetProperty("attributedRevenue").GetDecimal()));
        Assert.All(list[1].GetProperty("credits").EnumerateArray(), c => Assert.Equal(0m, c.GetProperty("amountReporting").GetDecimal()));
        var o1Credits = list[2].GetProperty("credits").EnumerateArray().ToDictionary(c => c.GetProperty("model").GetString()!,
            c => (c.GetProperty("amountReporting").GetDecimal(), c.GetProperty("chats").GetInt64()));
        Assert.Equal(["last_chat", "first_chat", "linear", "time_decay", "chat_assisted", "during_chat"], o1Credits.Keys);
        Assert.Equal((110m, 1L), o1Credits["last_chat"]);   // all to c3
        Assert.Equal((110m, 1L), o1Credits["first_chat"]);  // all to c1
        Assert.Equal((110m, 2L), o1Credits["linear"]);      // 55 + 55
        Assert.Equal(110m, o1Credits["chat_assisted"].Item1); // the order once, however many chats assisted
        Assert.Equal(("EUR", 100m, false), (list[2].GetProperty("currency").GetString(), list[2].GetProperty("net").GetDecimal(),
            list[2].GetProperty("cancelled").GetBoolean()));

        var notChatted = await GetAsync(http, $"/v1/sites/shop/orders?{day}&chatted=false", api);
        Assert.Equal((1L, "o2"), (notChatted.GetProperty("total").GetInt64(), notChatted.GetProperty("orders")[0].GetProperty("orderId").GetString()));
        var chatted = await GetAsync(http, $"/v1/sites/shop/orders?{day}&chatted=true&model=linear&limit=1&offset=1", api);
        Assert.Equal(2, chatted.GetProperty("total").GetInt64());
        Assert.Equal(("o1", 110m), (Assert.Single(chatted.GetProperty("orders").EnumerateArray()).GetProperty("orderId").GetString(),
            chatted.GetProperty("orders")[0].GetProperty("attributedRevenue").GetDecimal()));
    }

    private static (long, long, double, decimal, long, double) Stats(JsonElement goal) =>
        (goal.GetProperty("completions").GetInt64(), goal.GetProperty("converted").GetInt64(), goal.GetProperty("conversionRate").GetDouble(),
            goal.GetProperty("value").GetDecimal(), goal.GetProperty("chatAssistedCompletions").GetInt64(), goal.GetProperty("chatAssistedShare").GetDouble());

    private static async Task<JsonElement> GetAsync(HttpClient http, string url, DevStackPipeline.QueryApi? api = null)
    {
        using var response = await http.GetAsync(new Uri(url, UriKind.Relative), TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {body}\n{api?.Log.Text}");
        return JsonSerializer.Deserialize<JsonElement>(body);
    }
}
