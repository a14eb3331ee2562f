using Insights.Attribution.Engine;
using Insights.Contracts;

namespace Insights.Attribution.Tests.Support;

/// <summary>The engine as the consumer drives it — prepare, load the touched components, compute, store, commit — over
/// a <see cref="MemoryFactStore"/>, one batch per call.</summary>
public sealed class Harness
{
    public Harness(Action<SiteOptions>? configure = null, EngineSettings? settings = null)
    {
        var site = new SiteOptions
        {
            Id = Ev.Site,
            ReportingCurrency = "USD",
            CurrencyRates = new Dictionary<string, decimal> { ["EUR"] = 1.10m, ["GBP"] = 1.25m },
            AttributionWindowDays = 7,
            TimeDecayHalfLifeHours = 24,
        };
        configure?.Invoke(site);
        Engine = new AttributionEngine(new SiteRulebook([site], settings ?? new EngineSettings()));
    }

    public AttributionEngine Engine { get; }

    public MemoryFactStore Store { get; } = new();

    public AttributionOutput Last { get; private set; } = new();

    public AttributionOutput Run(params PipelineEvent[] batch)
    {
        var prepared = Engine.Prepare(batch);
        var (facts, _) = ComponentLoader.LoadAsync(prepared, Store, 10_000, 16, CancellationToken.None).GetAwaiter().GetResult();
        Last = Engine.Compute(prepared, facts);
        Store.Apply(Last);
        Engine.Commit(prepared);
        return Last;
    }
}
