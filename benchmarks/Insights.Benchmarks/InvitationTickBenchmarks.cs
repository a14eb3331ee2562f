using System.Diagnostics.Metrics;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Insights.Contracts;
using Insights.QueryApi.Companies;
using Insights.QueryApi.Live;
using Insights.QueryApi.Live.Invitations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Insights.Benchmarks;

/// <summary>
/// The presence board's once-a-second tick with invitation rules: 10,000 present visitors on one site with 20 rules
/// that only events can change (URL, company, channel …) and one that watches the clock (time on page). The baseline
/// checks every rule for every visitor, as a tick does right after the site's settings change; the steady tick checks
/// only the clock rule, as every later tick does.
/// </summary>
[MemoryDiagnoser]
public class InvitationTickBenchmarks
{
    private const int Visitors = 10_000;
    private const string SiteId = "demo";

    private PresenceBoard board = null!;
    private SiteCatalog catalog = null!;
    private SiteOptions settings = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rules = Enumerable.Range(0, 20).Select(i => Rule($"event-{i}", $$"""{"all":[{"kind":"current_url","pattern":"/never-{{i}}/*"},{"kind":"company_identified"}]}"""))
            .Append(Rule("clock", """{"all":[{"kind":"current_url","pattern":"/checkout"},{"kind":"time_on_page","min":30}]}""")).ToList();
        settings = new SiteOptions { Id = SiteId, Invitations = rules };
        catalog = new SiteCatalog([settings]);
        var recorder = new InvitationRecorder(Options.Create(new InvitationOptions()), new ConfigurationBuilder().Build(), NullLogger<InvitationRecorder>.Instance);
        var watcher = new InvitationWatcher(catalog, new VisitorInvitations(), recorder);
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        board = new PresenceBoard(Options.Create(new LiveOptions { MaxBytes = 1L << 32, IdleTimeout = TimeSpan.FromHours(1) }), Options.Create(new LeadScoreOptions()), TimeProvider.System,
            new LiveMetrics(meters), [watcher]);
        board.MarkReady();
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < Visitors; i++)
        {
            board.Apply(new LiveEvent
            {
                EventId = $"e{i}", Type = EventTypes.Pageview, SiteId = SiteId, VisitorId = $"visitor-{i:D6}", Timestamp = now, ReceivedAt = now,
                Url = "https://shop.example/pricing", Path = "/pricing", Visit = new LiveVisit($"s{i}", now, 1, "direct", null, null),
                Company = new LiveCompany("acme-1a2b3c4d", "Acme", "acme.example"),
            }, publish: false);
        }

        board.Sweep();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Visitors, Description = "tick, every rule checked (settings just changed), per visitor")]
    public int TickAfterSettingsChange()
    {
        // A new settings object is what a change looks like to the watcher: every rule is checked once more.
        settings = new SiteOptions { Id = SiteId, Invitations = settings.Invitations };
        catalog.Replace([settings], []);
        return board.Sweep();
    }

    [Benchmark(OperationsPerInvoke = Visitors, Description = "tick, steady (only clock rules checked), per visitor")]
    public int SteadyTick() => board.Sweep();

    private static InvitationRule Rule(string id, string when) => new()
    {
        Id = id, Name = id, Action = InvitationActions.Suggest, Enabled = true,
        When = JsonSerializer.Deserialize<InvitationCondition>(when, JsonSerializerOptions.Web)!,
    };
}
