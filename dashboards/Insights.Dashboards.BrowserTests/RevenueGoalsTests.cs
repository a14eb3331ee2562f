using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace Insights.Dashboards.BrowserTests;

/// <summary>
/// The owner's money pages: chats, orders and goals sent through ingest with the shop's server key, then the Revenue,
/// order and Goals pages must show what the query API answers for the same range and model. The class's tests read one
/// client of their own, seeded once (the first test to need it waits for attribution; a failed seeding fails them all).
/// </summary>
public sealed class RevenueGoalsTests(DashboardSystem system)
{
    private const decimal ChattedOrder = 120.50m;
    private const decimal UnchattedOrder = 80m;
    private static readonly Lock Seeding = new();
    private static Task<Client>? seeded;

    [Fact]
    public async Task Revenue_puts_chat_money_first_as_the_api_computes_it_and_follows_the_model_and_the_range()
    {
        var client = await SeededAsync();
        using var api = await system.SignInToApiAsync(client.OwnerEmail, client.OwnerPassword);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, client.OwnerPassword, $"/sites/{client.Site}/revenue");

        // Last 7 days under last chat (the defaults): the answer to "how much did chat make" is the API's, in money.
        var week = await api.GetAsync($"/v1/sites/{client.Site}/sales?{Range(-6, 1)}&model=last_chat");
        var headline = page.Locator("#chat-revenue strong");
        await Assertions.Expect(headline).ToHaveAttributeAsync("data-amount", Amount(week, "chatAttributedRevenue"));
        Assert.True(week.GetProperty("chatAttributedRevenue").GetDecimal() >= ChattedOrder, week.ToString());
        await Assertions.Expect(headline).ToHaveTextAsync(Money(week, "chatAttributedRevenue"));
        await Assertions.Expect(page.Locator("#chat-revenue")).ToContainTextAsync("Last chat");
        await Assertions.Expect(page.Locator(".stat", new() { HasText = "Revenue" }).First).ToContainTextAsync(Money(week, "revenue"));
        // The last chat before the order was Bob's: he gets the order under last chat.
        await Assertions.Expect(TopAgent(page)).ToHaveTextAsync("bob");
        var conversion = week.GetProperty("conversion");
        await Assertions.Expect(page.Locator("#conversion tbody tr").First.Locator("td").Nth(1))
            .ToHaveTextAsync(conversion.GetProperty("chattedBuyers").GetInt64().ToString("#,0", CultureInfo.InvariantCulture));
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "revenue");

        // First chat: Anna opened the conversation, so she gets it now; the headline is the API's under that model.
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Attribution model" }).GetByRole(AriaRole.Link, new() { Name = "First chat", Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**model=first_chat**");
        var first = await api.GetAsync($"/v1/sites/{client.Site}/sales?{Range(-6, 1)}&model=first_chat");
        await Assertions.Expect(headline).ToHaveAttributeAsync("data-amount", Amount(first, "chatAttributedRevenue"));
        await Assertions.Expect(TopAgent(page)).ToHaveTextAsync("anna");
        await Assertions.Expect(page.Locator("#chat-revenue")).ToContainTextAsync("First chat");

        // Another range keeps the model: today only, as the API has it.
        await page.GetByLabel("Range: Last 7 days").ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Today", Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**range=today**");
        Assert.Contains("model=first_chat", page.Url, StringComparison.Ordinal);
        var today = await api.GetAsync($"/v1/sites/{client.Site}/sales?{Range(0, 1)}&model=first_chat");
        await Assertions.Expect(headline).ToHaveAttributeAsync("data-amount", Amount(today, "chatAttributedRevenue"));
        await Assertions.Expect(page.Locator(".stat", new() { HasText = "Orders" }).First).ToContainTextAsync(today.GetProperty("orders").GetInt64().ToString(CultureInfo.InvariantCulture));

        // The orders list, where the API has it: its total, and every model's credit per order.
        using var orders = await RawGetAsync(api, $"/v1/sites/{client.Site}/orders?{Range(0, 1)}&model=first_chat");
        if (orders.IsSuccessStatusCode)
        {
            var list = await orders.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
            await Assertions.Expect(page.Locator("#orders-h")).ToContainTextAsync(list.GetProperty("total").GetInt64().ToString("#,0", CultureInfo.InvariantCulture));
        }
        else
        {
            Assert.Equal(0, await page.Locator("#orders-h").CountAsync());
        }
    }

    [Fact]
    public async Task An_orders_path_shows_its_chats_with_every_models_credit_and_its_pages()
    {
        var client = await SeededAsync();
        using var api = await system.SignInToApiAsync(client.OwnerEmail, client.OwnerPassword);
        var path = await api.GetAsync($"/v1/sites/{client.Site}/orders/{OrderId("chatted")}");
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, client.OwnerPassword, $"/sites/{client.Site}/revenue/orders/{OrderId("chatted")}");

        await Assertions.Expect(page.Locator("#chat-credits tbody tr")).ToHaveCountAsync(path.GetProperty("chats").GetArrayLength());
        Assert.Equal(2, path.GetProperty("chats").GetArrayLength());
        // Under last chat Bob's chat (the later one) has the whole order: 120.5 (100 %).
        await Assertions.Expect(page.Locator("#chat-credits tbody tr", new() { HasText = "bob" }).Locator("td").Nth(2)).ToHaveTextAsync("120.5 (100 %)");
        await Assertions.Expect(page.Locator(".path")).ToContainTextAsync("/pricing");
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "order-path");

        // Another site's order id, or a made-up one: the API's 404, not a page of someone else's data.
        await page.GotoAsync(new Uri(system.Dashboard, $"/sites/{client.Site}/revenue/orders/{Uri.EscapeDataString("nö-such-order-<script>")}").ToString());
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("order_not_found");
    }

    [Fact]
    public async Task Goals_show_each_goals_completions_conversion_and_chat_assisted_share_as_the_api_does()
    {
        var client = await SeededAsync();
        using var api = await system.SignInToApiAsync(client.OwnerEmail, client.OwnerPassword);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync();
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, client.OwnerPassword, $"/sites/{client.Site}/goals?range=30d");

        var goals = await api.GetAsync($"/v1/sites/{client.Site}/goals?{Range(-29, 1)}");
        Assert.True(goals.GetProperty("goals").GetArrayLength() >= 2, goals.ToString());
        foreach (var goal in goals.GetProperty("goals").EnumerateArray())
        {
            var row = page.Locator($"#goals tr[data-goal='{goal.GetProperty("id").GetString()}']");
            await Assertions.Expect(row.Locator("th")).ToContainTextAsync(goal.GetProperty("name").GetString()!);
            await Assertions.Expect(row.Locator("td").Nth(0)).ToHaveTextAsync(goal.GetProperty("completions").GetInt64().ToString("#,0", CultureInfo.InvariantCulture));
            await Assertions.Expect(row.Locator("td").Nth(2)).ToHaveTextAsync(Percent(goal.GetProperty("conversionRate").GetDouble()));
            await Assertions.Expect(row.Locator("td").Nth(4)).ToContainTextAsync(Percent(goal.GetProperty("chatAssistedShare").GetDouble()));
        }

        var chats = goals.GetProperty("goals").EnumerateArray().Single(g => g.GetProperty("kind").GetString() == "chat_started");
        Assert.True(chats.GetProperty("completions").GetInt64() >= 2, chats.ToString());
        await Browser.AssertAccessibleAsync(page);
        await Browser.ScreenshotAsync(page, "goals");
    }

    [Fact]
    public async Task On_a_phone_the_revenue_answer_is_on_the_first_screen_and_nothing_is_wider_than_the_screen()
    {
        var client = await SeededAsync();
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(phone: true);
        await Browser.SignInAsync(page, system.Dashboard, client.OwnerEmail, client.OwnerPassword, $"/sites/{client.Site}/revenue");
        await Assertions.Expect(page.Locator("#chat-revenue strong")).ToBeInViewportAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "the revenue page scrolls sideways on a phone");
        await Browser.ScreenshotAsync(page, "revenue-phone");
    }

    private static ILocator TopAgent(IPage page) => page.Locator("section:has(#by-agent-h) tbody tr").First.Locator("th");

    private Task<Client> SeededAsync()
    {
        lock (Seeding)
        {
            return seeded ??= SeedAsync();
        }
    }

    /// <summary>Once per run: a visitor who chats with Anna, then Bob, then orders; another who orders without a chat.</summary>
    private async Task<Client> SeedAsync()
    {
        var client = await system.NewClientAsync("revenue");
        var now = DateTimeOffset.UtcNow;
        var buyer = "rev-buyer-" + Guid.NewGuid().ToString("N")[..8];
        var other = "rev-other-" + Guid.NewGuid().ToString("N")[..8];
        object[] events =
        [
            PageView(buyer, "/pricing", now.AddSeconds(-90)),
            new { type = "chat_started", messageId = $"{buyer}-c1", anonymousId = buyer, chatId = $"{buyer}-c1", agentId = "anna", channel = "website", timestamp = now.AddSeconds(-80) },
            new { type = "chat_started", messageId = $"{buyer}-c2", anonymousId = buyer, chatId = $"{buyer}-c2", agentId = "bob", channel = "website", timestamp = now.AddSeconds(-60) },
            new { type = "order", messageId = $"{buyer}-o", anonymousId = buyer, orderId = OrderId("chatted"), total = ChattedOrder, currency = "USD", timestamp = now.AddSeconds(-30) },
            PageView(other, "/shoes", now.AddSeconds(-70)),
            new { type = "order", messageId = $"{other}-o", anonymousId = other, orderId = OrderId("unchatted"), total = UnchattedOrder, currency = "USD", timestamp = now.AddSeconds(-20) },
        ];
        await Events.SendAsync(system.Ingest, client.ServerKey, events);

        // Attribution runs behind Kafka: wait until the API credits the chatted order and counts both orders as goals.
        using var api = await system.SignInToApiAsync(client.OwnerEmail, client.OwnerPassword);
        var deadline = DateTime.UtcNow.AddSeconds(240);
        while (true)
        {
            var sales = await api.GetAsync($"/v1/sites/{client.Site}/sales?{Range(-6, 1)}&model=last_chat");
            using var order = await RawGetAsync(api, $"/v1/sites/{client.Site}/orders/{OrderId("chatted")}");
            var goals = await api.GetAsync($"/v1/sites/{client.Site}/goals?{Range(-6, 1)}");
            if (sales.GetProperty("orders").GetInt64() == 2 && sales.GetProperty("chatAttributedRevenue").GetDecimal() == ChattedOrder && order.IsSuccessStatusCode
                && (await order.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("chats").GetArrayLength() == 2
                && goals.GetProperty("goals").EnumerateArray().Any(g => g.GetProperty("kind").GetString() == "order_placed" && g.GetProperty("completions").GetInt64() == 2)
                && goals.GetProperty("goals").EnumerateArray().Any(g => g.GetProperty("kind").GetString() == "chat_started" && g.GetProperty("completions").GetInt64() == 2))
            {
                return client;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the chatted order was not attributed in time: {sales}\n{goals}");
            await Task.Delay(1000, TestContext.Current.CancellationToken);
        }
    }

    private static object PageView(string visitor, string path, DateTimeOffset at) => new
    {
        type = "pageview",
        messageId = $"{visitor}-{Guid.NewGuid():N}",
        anonymousId = visitor,
        timestamp = at,
        context = new { page = new { url = $"https://shop.example{path}", path, title = $"Shop {path}" }, userAgent = Events.PersonsChrome },
    };

    private static string OrderId(string which) => $"rev-order-{which}";

    /// <summary>The query string of the app's range: days from today (UTC, the site's zone), end exclusive.</summary>
    private static string Range(int fromDays, int toDays)
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        return $"from={today.AddDays(fromDays):yyyy-MM-dd}&to={today.AddDays(toDays):yyyy-MM-dd}";
    }

    private static string Amount(JsonElement json, string name) => json.GetProperty(name).GetDecimal().ToString(CultureInfo.InvariantCulture);

    private static string Money(JsonElement json, string name) =>
        json.GetProperty(name).GetDecimal().ToString("#,0.00", CultureInfo.InvariantCulture) + " " + json.GetProperty("currency").GetString();

    private static string Percent(double share) => (share * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %";

    private static Task<HttpResponseMessage> RawGetAsync(ApiPerson api, string path) => api.SendAsync(HttpMethod.Get, path);
}
