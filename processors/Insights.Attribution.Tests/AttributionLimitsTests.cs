using System.Diagnostics.Metrics;
using System.Text;
using ClickHouse.Driver;
using Insights.Attribution.Engine;
using Insights.Attribution.Storage;
using Insights.Attribution.Tests.Support;
using Insights.Contracts;
using Insights.DevStack.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Insights.Attribution.Tests.Support.Ev;

namespace Insights.Attribution.Tests;

/// <summary>
/// What a stranger's ids and user agents may cost attribution: look-ups of 1,000 maximum-length non-ASCII ids read
/// back from the dev stack (they made a URL the server refuses before), and the engine's memory stays under its byte
/// caps while what it forgets is rebuilt from the stored facts.
/// </summary>
public sealed class AttributionLimitsTests(DevStackFixture stack)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string HostileId(int n, string alphabet = "😀漢ж'\\")
    {
        var id = new StringBuilder($"{n:D4}-", Node.MaxIdLength + 4);
        var elements = System.Globalization.StringInfo.GetTextElementEnumerator(alphabet);
        while (true)
        {
            if (!elements.MoveNext())
            {
                elements.Reset();
                elements.MoveNext();
            }

            var element = elements.GetTextElement();
            if (id.Length + element.Length > Node.MaxIdLength)
            {
                return id.ToString();
            }

            id.Append(element);
        }
    }

    [Fact]
    public async Task A_thousand_links_chats_and_orders_with_maximum_length_four_byte_ids_are_read_back_in_full()
    {
        var pipeline = await DevStackPipeline.CreateAsync(stack);
        using var client = new ClickHouseClient(new DevStackPipeline.Stack(stack.ClickHouseUrl, stack.KafkaBootstrap).ConnectionString(pipeline.Database));
        var facts = new ClickHouseFacts(client, pipeline.Database, TimeSpan.FromSeconds(30));
        var ids = Enumerable.Range(0, 1_000).Select(i => HostileId(i)).ToList();
        Assert.All(ids, id => Assert.True(Node.IsUsable(id)));
        var output = new AttributionOutput();
        output.Links.AddRange(ids.Select(id => new LinkFact(Site, Node.Anonymous(id), Node.User(id), LinkStrength.Strong, LinkReasons.Identify, "e-" + id, T.UtcDateTime)));
        output.ChatEvents.AddRange(ids.Select(id => new ChatEventFact(Site, id, "c-" + id, "chat_started", T.UtcDateTime, id, "", "", "ann", "website", "livechat", "", null)));
        output.OrderEvents.AddRange(ids.Select(id => new OrderEventFact(Site, id, "o-" + id, "order", T.UtcDateTime, id, "", "", 10m, "USD", "", "api")));
        await facts.WriteAsync(output, Ct);

        var links = await facts.LinksAsync(Site, [.. ids.Select(Node.Anonymous)], Ct);
        var chats = await facts.ChatEventsAsync(Site, ids, Ct);
        var orders = await facts.OrderEventsAsync(Site, ids, Ct);

        Assert.Equal(ids.Select(Node.Anonymous).ToHashSet(StringComparer.Ordinal), links.Select(l => l.From).ToHashSet(StringComparer.Ordinal));
        Assert.Equal(ids.ToHashSet(StringComparer.Ordinal), chats.Select(c => c.ChatId).ToHashSet(StringComparer.Ordinal));
        Assert.Equal(ids.ToHashSet(StringComparer.Ordinal), orders.Select(o => o.OrderId).ToHashSet(StringComparer.Ordinal));
    }

    [Fact]
    public void Weak_pairs_with_hostile_user_agents_from_many_sites_stay_under_the_byte_cap_and_the_newest_still_link()
    {
        const long cap = 256 * 1024;
        var linker = new WeakLinker(new EngineSettings { WeakLinkMaxBytes = cap });
        var userAgent = new string('漢', 2_000);
        for (var i = 0; i < 2_000; i++)
        {
            linker.See($"site-{i % 50}", $"10.{i / 65536}.{i / 256 % 256}.{i % 256}", userAgent + i, Node.Anonymous(HostileId(i)), T.UtcDateTime.AddMilliseconds(i));
            Assert.InRange(linker.BytesHeld, 1, cap);
        }

        Assert.True(linker.Evictions > 1_000, $"{linker.Evictions} evicted");
        Assert.Equal(Node.Anonymous(HostileId(1_999)), linker.Match("site-49", "10.0.7.207", userAgent + 1_999, null, T.UtcDateTime.AddSeconds(2)));
    }

    [Fact]
    public void With_a_tiny_known_links_cap_memory_stays_under_it_and_persons_come_out_as_with_a_large_one()
    {
        const long cap = 64 * 1024;
        var small = new Harness(settings: new EngineSettings { KnownLinksMaxBytes = cap });
        var large = new Harness();
        // 400 logged-in visitors with maximum-length ids, each identified, then seen again logged in, then ordering.
        var visitors = Enumerable.Range(0, 400).Select(i => HostileId(i)).ToList();
        foreach (var harness in new[] { small, large })
        {
            foreach (var chunk in visitors.Chunk(50))
            {
                harness.Run([.. chunk.Select(v => Identify(v, T, user: "u" + v[..200]))]);
                Assert.InRange(harness.Engine.KnownLinksBytes, 0, harness == small ? cap : long.MaxValue);
            }

            foreach (var chunk in visitors.Chunk(50))
            {
                harness.Run([.. chunk.Select(v => Identify(v, T.AddMinutes(5), user: "u" + v[..200]))]);
                harness.Run([.. chunk.Select(v => Order("o" + v[..200], v, T.AddMinutes(10), 25m))]);
            }
        }

        Assert.InRange(small.Engine.KnownLinksBytes, 1, cap);
        Assert.True(large.Engine.KnownLinksBytes > cap, "the large cap kept more than the small one could");
        foreach (var v in visitors)
        {
            var person = large.Store.Identity(Node.Anonymous(v))?.PersonId;
            Assert.NotNull(person);
            Assert.Equal(person, small.Store.Identity(Node.Anonymous(v))?.PersonId);
            Assert.Equal(person, small.Store.Identity(Node.User("u" + v[..200]))?.PersonId);
            Assert.Equal(person, small.Store.Order("o" + v[..200])?.PersonId);
        }
    }

    [Fact]
    public void Given_the_hosts_meter_factory_the_engine_reports_its_memory_and_evictions()
    {
        const long cap = 64 * 1024;
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var site = new SiteOptions { Id = Site, ReportingCurrency = "USD" };
        var engine = new AttributionEngine(new SiteRulebook([site], new EngineSettings { WeakLinkMaxBytes = cap, KnownLinksMaxBytes = cap }), factory);
        var measured = new Dictionary<string, long>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Meter.Name == "Insights.Attribution")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            measured[instrument.Name] = instrument is ObservableGauge<long> ? value : measured.GetValueOrDefault(instrument.Name) + value);
        listener.Start();

        foreach (var chunk in Enumerable.Range(0, 500).Chunk(50))
        {
            var batch = engine.Prepare([.. chunk.Select(i => Pageview(HostileId(i), T, ip: $"10.1.{i / 256}.{i % 256}", userAgent: new string('ж', 500) + i))]);
            engine.Commit(batch);
        }

        listener.RecordObservableInstruments();
        Assert.InRange(measured["insights.attribution.weak_pairs.memory"], 1, cap);
        Assert.Equal(engine.WeakPairsBytes, measured["insights.attribution.weak_pairs.memory"]);
        Assert.True(measured.GetValueOrDefault("insights.attribution.weak_pairs.evicted") > 0, string.Join(", ", measured));
        Assert.True(measured.ContainsKey("insights.attribution.known_links.memory"));
    }
}
