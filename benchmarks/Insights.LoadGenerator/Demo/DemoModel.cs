using System.Globalization;
using System.Text.Json.Nodes;

namespace Insights.LoadGenerator.Demo;

/// <summary>One event of the demo, with the time it happens (sent at once for history, when due for live traffic).</summary>
public sealed record DemoEvent(DateTimeOffset At, string Json);

/// <summary>A demo site: who it belongs to, what its visitors read and buy, and how busy it is.</summary>
/// <param name="Client">The client organisation the demo partner manages; null for the seeded API example site.</param>
public sealed record DemoSite(string Id, string Name, string? Client, string Host, string[][] Journeys, int MinOrder, int MaxOrder,
    int VisitsPerDay, string[] Agents)
{
    /// <summary>The seeded site of <c>control-plane/demo/demo-sites.json</c> (fixed keys, for the README's curl examples).</summary>
    public static DemoSite Showcase { get; } = new("demo", "Demo shop", null, "shop.example",
    [
        ["/", "/products", "/products/chat-widget", "/pricing", "/checkout"],
        ["/blog/proactive-chat", "/products/chat-widget", "/pricing"],
        ["/", "/about", "/careers"],
        ["/pricing", "/contact"],
        ["/docs", "/docs/install"],
        ["/", "/products/analytics", "/pricing", "/contact"],
    ], 29, 500, 40, ["anna@shop.example", "ben@shop.example"]);

    /// <summary>The demo partner's clients: provisioned through the partner API, one site each.</summary>
    public static IReadOnlyList<DemoSite> Clients { get; } =
    [
        new("northwind-outdoor", "Northwind Outdoor", "Northwind Outdoor Ltd", "northwind-outdoor.example",
        [
            ["/", "/tents", "/tents/alpine-2", "/pricing", "/checkout"],
            ["/blog/winter-camping", "/jackets", "/jackets/storm-shell", "/checkout"],
            ["/", "/business-accounts", "/pricing", "/contact"],
            ["/jackets", "/jackets/storm-shell", "/sizes"],
            ["/", "/tents", "/contact"],
        ], 49, 900, 70, ["maja@northwind-outdoor.example", "tom@northwind-outdoor.example", "lea@northwind-outdoor.example"]),
        new("bluebird-crm", "Bluebird CRM", "Bluebird Software Inc.", "bluebird-crm.example",
        [
            ["/", "/features", "/pricing", "/signup"],
            ["/blog/sales-pipeline", "/features/pipeline", "/pricing", "/contact"],
            ["/pricing", "/enterprise", "/contact"],
            ["/docs", "/docs/api", "/docs/webhooks"],
            ["/", "/customers", "/pricing", "/checkout"],
        ], 29, 2400, 55, ["sam@bluebird-crm.example", "priya@bluebird-crm.example"]),
        new("cedar-furniture", "Cedar & Sons", "Cedar & Sons Furniture", "cedar-furniture.example",
        [
            ["/", "/office-chairs", "/office-chairs/ergo-pro", "/checkout"],
            ["/desks", "/desks/standing-desk", "/pricing", "/contact"],
            ["/", "/business", "/pricing", "/contact"],
            ["/showrooms", "/contact"],
            ["/office-chairs", "/office-chairs/ergo-pro", "/reviews", "/checkout"],
        ], 199, 3200, 35, ["olga@cedar-furniture.example", "nils@cedar-furniture.example"]),
    ];
}

/// <summary>
/// Lifelike visits to one demo site, from a seeded random: the same site, day and seed always give the same history
/// (same events, same ids, so re-sending a day after a restart is deduplicated by storage), while live visits get ids
/// from their start time. Visitors come from real networks (<see cref="DemoNetworks"/>): a site's target companies
/// send a few people who come back over the weeks; everyone else is a new visitor on a consumer ISP. Some chat with an
/// agent, and a chat makes an order far more likely, so chat-attributed revenue shows under every model.
/// </summary>
public sealed class DemoModel
{
    private static readonly string[] UserAgents =
    [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    ];

    private static readonly string[] Locales = ["en-US", "en-GB", "de-DE", "fr-FR", "nl-NL", "en-CA"];

    // (referrer, campaign query) of a visit's first page; repeated entries weigh a source up.
    private static readonly (string Referrer, string Campaign)[] Sources =
    [
        ("", ""), ("", ""), ("https://www.google.com/", ""), ("https://www.google.com/", ""), ("https://www.google.com/", ""),
        ("https://www.bing.com/", ""), ("https://www.linkedin.com/feed/", ""), ("https://twitter.com/", ""),
        ("", "?utm_source=newsletter&utm_medium=email&utm_campaign=winter-sale"),
        ("https://www.google.com/", "?utm_source=google&utm_medium=cpc&utm_campaign=brand"),
        ("https://www.linkedin.com/", "?utm_source=linkedin&utm_medium=paid_social&utm_campaign=b2b-q4"),
    ];

    // Share of a day's visits starting in each UTC hour (Europe and the Americas awake: a long plateau).
    private static readonly int[] HourWeights = [2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 9, 9, 10, 11, 11, 10, 9, 8, 7, 6, 5, 4, 3];

    private readonly DemoSite site;
    private readonly int seed;
    private readonly List<Person> people = [];

    public DemoModel(DemoSite site, int seed = 1)
    {
        this.site = site;
        this.seed = seed;
        // Each site's target accounts: eight companies, each with one to three people who come back.
        var random = new Random(StableHash(site.Id, seed));
        var companies = DemoNetworks.Companies.OrderBy(_ => random.Next()).Take(8).ToList();
        for (var c = 0; c < companies.Count; c++)
        {
            var count = random.Next(1, 4);
            for (var p = 0; p < count; p++)
            {
                // Hotter accounts first: the first companies' people visit more often, so lead scores differ.
                people.Add(new Person($"{Slug(companies[c].Holder)}-{p + 1}", companies[c], companies[c].Address(random.Next(200)),
                    UserAgents[random.Next(3)], Locales[random.Next(Locales.Length)], Weight: 8 - c));
            }
        }
    }

    public DemoSite Site => site;

    /// <summary>The companies this site's visitors come from (their names as the enrichment shows them).</summary>
    public IEnumerable<string> Companies => people.Select(p => p.Network.Holder).Distinct();

    /// <summary>Every event of one UTC day, in time order; the same for the same site, day and seed.</summary>
    public List<DemoEvent> Day(DateOnly day, DateOnly today, int historyDays)
    {
        var random = new Random(StableHash($"{site.Id}/{day:yyyy-MM-dd}", seed));
        var weekend = day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 0.55 : 1.0;
        // The business grows a little over the month, so the trend line rises.
        var age = Math.Clamp(today.DayNumber - day.DayNumber, 0, historyDays);
        var growth = 1.15 - 0.35 * age / Math.Max(1, historyDays);
        var visits = (int)Math.Round(site.VisitsPerDay * weekend * growth * (0.85 + random.NextDouble() * 0.3));
        var events = new List<DemoEvent>();
        var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        for (var i = 0; i < visits; i++)
        {
            var at = start.AddHours(Pick(random, HourWeights)).AddSeconds(random.Next(3600));
            events.AddRange(Visit(random, at, $"h{day:yyyyMMdd}-{i}", companyShare: 0.22, live: false));
        }

        events.Sort((a, b) => a.At.CompareTo(b.At));
        return events;
    }

    /// <summary>
    /// One visit starting at <paramref name="start"/>: page views with the visitor's network and browser, maybe a sign-up,
    /// a chat (started on a pricing or contact page, ended minutes later) and an order (far likelier after a chat).
    /// </summary>
    public List<DemoEvent> Visit(Random random, DateTimeOffset start, string key, double companyShare, bool live)
    {
        Person visitor;
        string id;
        if (random.NextDouble() < companyShare)
        {
            visitor = PickPerson(random);
            id = $"{site.Id}-{visitor.Id}";
        }
        else
        {
            var network = DemoNetworks.Residential[random.Next(DemoNetworks.Residential.Count)];
            visitor = new Person(key, network, network.Address(random.Next(1 << 18)), UserAgents[random.Next(UserAgents.Length)],
                Locales[random.Next(Locales.Length)], 0);
            id = $"{site.Id}-{key}";
        }

        var business = visitor.Weight > 0;
        var journey = site.Journeys[random.Next(site.Journeys.Length)];
        var (referrer, campaign) = Sources[random.Next(Sources.Length)];
        var chats = random.NextDouble() < (business ? 0.3 : 0.1);
        var events = new List<DemoEvent>();
        var at = start;
        string? chat = null;
        var agent = site.Agents[random.Next(site.Agents.Length)];
        for (var step = 0; step < journey.Length; step++)
        {
            var path = journey[step];
            var page = new JsonObject
            {
                ["url"] = $"https://{site.Host}{path}{(step == 0 ? campaign : "")}",
                ["path"] = path,
                ["title"] = $"{site.Name} {path}",
                ["referrer"] = step == 0 ? referrer : $"https://{site.Host}{journey[step - 1]}",
            };
            events.Add(Event(at, "pageview", $"{key}-p{step}", id, visitor, new JsonObject { ["context"] = Context(visitor, page) }));
            if (path is "/signup" or "/contact" or "/docs/api" && random.Next(3) == 0)
            {
                events.Add(Event(at.AddSeconds(random.Next(5, 40)), "track", $"{key}-signup", id, visitor,
                    new JsonObject { ["event"] = "signup", ["properties"] = new JsonObject { ["plan"] = "trial" } }));
            }

            if (chats && chat is null && (path.Contains("pricing", StringComparison.Ordinal) || path.Contains("contact", StringComparison.Ordinal) || step == journey.Length - 1))
            {
                chat = $"chat-{key}";
                var chatAt = at.AddSeconds(random.Next(5, 30));
                events.Add(Event(chatAt, "chat_started", $"{key}-chat", id, visitor,
                    new JsonObject { ["chatId"] = chat, ["agentId"] = agent, ["channel"] = "website" }));
                events.Add(Event(chatAt.AddMinutes(random.Next(3, 12)), "chat_ended", $"{key}-chat-end", id, visitor,
                    new JsonObject { ["chatId"] = chat, ["agentId"] = agent, ["channel"] = "website" }));
                at = chatAt;
            }

            at = at.AddSeconds(live ? random.Next(15, 75) : random.Next(20, 180));
        }

        if (random.NextDouble() < (chat is null ? 0.05 : 0.4))
        {
            var total = random.Next(site.MinOrder, site.MaxOrder + 1) + (random.Next(2) == 0 ? 0.99m : 0m);
            var currency = random.Next(6) switch { 0 => "EUR", 1 => "GBP", _ => "USD" };
            // Checkout signs the buyer in: the shop's customer id joins the visitor (the same for a returning company person).
            events.Add(Event(at, "identify", $"{key}-identify", id, visitor,
                new JsonObject { ["userId"] = $"customer-{StableHash(id, seed):x}", ["traits"] = new JsonObject { ["plan"] = "customer" } }));
            events.Add(Event(at, "order", $"{key}-order", id, visitor, new JsonObject
            {
                ["orderId"] = $"{key}-order",
                ["total"] = total,
                ["currency"] = currency,
                ["properties"] = new JsonObject { ["items"] = new JsonArray(new JsonObject { ["name"] = journey[^1].Trim('/'), ["price"] = total, ["quantity"] = 1 }) },
            }));
        }

        return events;
    }

    /// <summary>A stable 31-bit hash (string.GetHashCode differs between processes, and a day's history must not).</summary>
    public static int StableHash(string text, int seed)
    {
        var hash = 2166136261u ^ (uint)seed;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash & 0x7fffffff);
    }

    private Person PickPerson(Random random)
    {
        var roll = random.Next(people.Sum(p => p.Weight));
        foreach (var person in people)
        {
            if ((roll -= person.Weight) < 0)
            {
                return person;
            }
        }

        return people[^1];
    }

    private static int Pick(Random random, int[] weights)
    {
        var roll = random.Next(weights.Sum());
        for (var i = 0; i < weights.Length; i++)
        {
            if ((roll -= weights[i]) < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }

    private static JsonObject Context(Person visitor, JsonObject? page = null)
    {
        var context = new JsonObject { ["ip"] = visitor.Ip, ["userAgent"] = visitor.UserAgent, ["locale"] = visitor.Locale };
        if (page is not null)
        {
            context["page"] = page;
        }

        return context;
    }

    private static DemoEvent Event(DateTimeOffset at, string type, string messageId, string visitor, Person person, JsonObject fields)
    {
        var json = new JsonObject
        {
            ["type"] = type,
            ["messageId"] = messageId,
            ["anonymousId"] = visitor,
            ["timestamp"] = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        };
        foreach (var (name, value) in fields.ToList())
        {
            fields.Remove(name);
            json[name] = value;
        }

        json["context"] ??= Context(person);
        return new DemoEvent(at, json.ToJsonString());
    }

    private static string Slug(string name) =>
        string.Join('-', name.ToLowerInvariant().Split(' ', '.', ',', '&').Where(w => w.Length > 0)).Replace("--", "-", StringComparison.Ordinal);

    private sealed record Person(string Id, DemoNetwork Network, string Ip, string UserAgent, string Locale, int Weight);
}
