using ClickHouse.Driver;
using Insights.DevStack.Testing;

namespace Insights.QueryApi.Tests.Support;

/// <summary>
/// One person as the processors store them, in every table that can hold them (migrations 0001–0015): two devices
/// (visitor ids <c>{name}-laptop</c> and <c>{name}-phone</c>) joined by their user id <c>{name}</c> and e-mail hash, a
/// chat and an order, their events, visits, credits and goal completions. The row counts per table are
/// <see cref="Rows"/>. <paramref name="Stranger"/>, when given, is a visitor linked to the person's chat only by a
/// guess (same IP and user agent): another person as far as an erasure is concerned.
/// </summary>
public sealed record TestPerson(string Name, string EmailHash, string Site = TestSites.Shop, string? Stranger = null)
{
    private static readonly DateTime At = new(2026, 5, 1, 10, 0, 0, DateTimeKind.Utc);

    public string Laptop => Name + "-laptop";

    public string Phone => Name + "-phone";

    public string Chat => "chat-" + Name;

    public string Order => "order-" + Name;

    /// <summary>The graph nodes of the person (what an erasure by any of their ids covers).</summary>
    public IReadOnlyList<string> Nodes => ["a:" + Laptop, "a:" + Phone, "u:" + Name, "e:" + EmailHash, "c:" + Chat, "o:" + Order];

    /// <summary>Rows per table for this person (each row once). visitor_quarters: one per device, fed by the events' view.</summary>
    public Dictionary<string, long> Rows => new(StringComparer.Ordinal)
    {
        ["identity_links"] = Stranger is null ? 10 : 12,
        ["chat_events"] = 2,
        ["order_events"] = 1,
        ["events"] = 4,
        ["identities"] = 6,
        ["chats"] = 1,
        ["orders"] = 1,
        ["attribution_credits"] = 2,
        ["goal_completions"] = 2,
        ["sessions"] = 2,
        ["visitor_quarters"] = 2,
    };

    /// <summary>The event ids of the person's events: pages on both devices and a server-side event with only the user id.</summary>
    public IReadOnlyList<string> EventIds => [$"{Name}-e1", $"{Name}-e2", $"{Name}-e3", $"{Name}-server"];

    public async Task InsertAsync(DevStackFixture stack, string database)
    {
        using var client = new ClickHouseClient(stack.ConnectionString(database));
        var ct = TestContext.Current.CancellationToken;
        var noDedup = new InsertOptions { CustomSettings = new Dictionary<string, object> { ["insert_deduplicate"] = 0 } };

        await client.InsertBinaryAsync("events", ["event_id", "site_id", "type", "timestamp", "received_at", "anonymous_id", "user_id", "url", "path", "ip"],
        [
            [$"{Name}-e1", Site, "pageview", At, At, Laptop, "", "https://shop.example/", "/", System.Net.IPAddress.Parse("203.0.113.7").MapToIPv6()],
            [$"{Name}-e2", Site, "pageview", At.AddMinutes(1), At.AddMinutes(1), Laptop, Name, "https://shop.example/pricing", "/pricing", null],
            [$"{Name}-e3", Site, "pageview", At.AddDays(1), At.AddDays(1), Phone, Name, "https://shop.example/", "/", null],
            [$"{Name}-server", Site, "track", At.AddDays(1), At.AddDays(1), "", Name, "", "", null],
        ], noDedup, ct);

        await client.InsertBinaryAsync("sessions", ["session_id", "site_id", "anonymous_id", "user_id", "opened_at", "started_at", "ended_at", "page_views", "pages", "version"],
        [
            [$"{Name}-s1", Site, Laptop, Name, At, At, At.AddMinutes(1), 2u, new[] { "/", "/pricing" }, 2ul],
            [$"{Name}-s2", Site, Phone, Name, At.AddDays(1), At.AddDays(1), At.AddDays(1), 1u, new[] { "/" }, 1ul],
        ], noDedup, ct);

        // Every link from both ends, as attribution writes them; one row per direction.
        List<(string From, string To, byte Strength)> links =
        [
            ("a:" + Laptop, "u:" + Name, 2), ("a:" + Phone, "u:" + Name, 2), ("u:" + Name, "e:" + EmailHash, 2),
            ("c:" + Chat, "a:" + Laptop, 2), ("o:" + Order, "u:" + Name, 2),
        ];
        if (Stranger is not null)
        {
            links.Add(("c:" + Chat, "a:" + Stranger, 1));
        }

        await client.InsertBinaryAsync("identity_links", ["site_id", "id", "linked_id", "strength", "reason", "event_id", "linked_at"],
            links.SelectMany(l => new object[][]
            {
                [Site, l.From, l.To, l.Strength, l.Strength == 2 ? "identify" : "ip_user_agent", $"{Name}-e2", At],
                [Site, l.To, l.From, l.Strength, l.Strength == 2 ? "identify" : "ip_user_agent", $"{Name}-e2", At],
            }), noDedup, ct);

        var person = "a:" + Laptop;
        await client.InsertBinaryAsync("identities", ["site_id", "id", "person_id", "strong_person_id", "members", "version"],
            Nodes.Select(n => new object[] { Site, n, person, person, 6u, 5ul }), noDedup, ct);

        await client.InsertBinaryAsync("chat_events", ["site_id", "chat_id", "event_id", "type", "timestamp", "anonymous_id", "email_hash", "agent_id"],
        [
            [Site, Chat, $"{Name}-c1", "chat_started", At.AddMinutes(2), Laptop, EmailHash, "agent-1"],
            [Site, Chat, $"{Name}-c2", "chat_ended", At.AddMinutes(9), Laptop, EmailHash, "agent-1"],
        ], noDedup, ct);

        await client.InsertBinaryAsync("chats", ["site_id", "chat_id", "person_id", "anonymous_id", "email_hash", "agent_id", "started_at", "last_event_at", "version"],
            [[Site, Chat, person, Laptop, EmailHash, "agent-1", At.AddMinutes(2), At.AddMinutes(9), 2ul]], noDedup, ct);

        await client.InsertBinaryAsync("order_events", ["site_id", "order_id", "event_id", "type", "timestamp", "user_id", "email_hash", "amount", "currency"],
            [[Site, Order, $"{Name}-o1", "order", At.AddDays(1), Name, EmailHash, 120.5m, "USD"]], noDedup, ct);

        await client.InsertBinaryAsync("orders", ["site_id", "order_id", "person_id", "user_id", "email_hash", "placed_at", "currency", "amount", "net", "version"],
            [[Site, Order, person, Name, EmailHash, At.AddDays(1), "USD", 120.5m, 120.5m, 3ul]], noDedup, ct);

        await client.InsertBinaryAsync("attribution_credits", ["site_id", "order_id", "model", "chat_id", "share", "amount", "currency", "order_placed_at", "chat_started_at", "person_id", "version"],
        [
            [Site, Order, "last_chat", Chat, 1.0, 120.5m, "USD", At.AddDays(1), At.AddMinutes(2), person, 3ul],
            [Site, Order, "linear", Chat, 1.0, 120.5m, "USD", At.AddDays(1), At.AddMinutes(2), person, 3ul],
        ], noDedup, ct);

        await client.InsertBinaryAsync("goal_completions", ["site_id", "goal_id", "key", "timestamp", "node", "anonymous_id", "value", "version"],
        [
            [Site, "pricing", $"{Name}-e2", At.AddMinutes(1), "a:" + Laptop, Laptop, 0m, 1ul],
            [Site, "order", "o:" + Order, At.AddDays(1), "u:" + Name, "", 120.5m, 3ul],
        ], noDedup, ct);
    }
}
