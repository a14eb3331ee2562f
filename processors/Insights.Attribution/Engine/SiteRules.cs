using System.Collections.Frozen;
using Insights.Contracts;

namespace Insights.Attribution.Engine;

/// <summary>Settings of the engine that are the same for every site (section <c>Attribution</c>).</summary>
public sealed record EngineSettings
{
    /// <summary>An order placed up to this long after a chat ended still counts as placed "during" it.</summary>
    public TimeSpan DuringChatGrace { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Global switch of the IP + user-agent fallback; a site can only turn it off, never on against this.</summary>
    public bool WeakLinking { get; init; } = true;

    /// <summary>How close in time a chat or order and a page view of the same IP and user agent must be to be linked weakly.</summary>
    public TimeSpan WeakLinkWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Bytes of IP + user-agent pairs remembered for weak linking; the least recently seen go first when it is full.</summary>
    public long WeakLinkMaxBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Bytes of stored strong links remembered so a logged-in visitor's page views do not reload their component.</summary>
    public long KnownLinksMaxBytes { get; init; } = 64L * 1024 * 1024;
}

/// <summary>One site's attribution rules, resolved from its <see cref="SiteOptions"/>.</summary>
public sealed class SiteRules
{
    public SiteRules(SiteOptions site, EngineSettings settings)
    {
        ArgumentNullException.ThrowIfNull(site);
        ArgumentNullException.ThrowIfNull(settings);
        Site = site.Id;
        ReportingCurrency = site.ReportingCurrency.ToUpperInvariant();
        Rates = site.CurrencyRates.ToFrozenDictionary(kv => kv.Key.ToUpperInvariant(), kv => kv.Value, StringComparer.Ordinal);
        Window = TimeSpan.FromDays(site.AttributionWindowDays);
        HalfLife = TimeSpan.FromHours(site.TimeDecayHalfLifeHours);
        DuringChatGrace = settings.DuringChatGrace;
        WeakLinking = settings.WeakLinking && site.WeakIdentityLinking;
        Goals = [.. site.Goals.Select(g => new GoalRule(g))];
    }

    public string Site { get; }

    public string ReportingCurrency { get; }

    public IReadOnlyDictionary<string, decimal> Rates { get; }

    public TimeSpan Window { get; }

    public TimeSpan HalfLife { get; }

    public TimeSpan DuringChatGrace { get; }

    public bool WeakLinking { get; }

    public IReadOnlyList<GoalRule> Goals { get; }

    /// <summary>An amount in the reporting currency, or null when the site has no rate for <paramref name="currency"/>.</summary>
    public decimal? ToReporting(decimal amount, string currency)
    {
        if (string.Equals(currency, ReportingCurrency, StringComparison.Ordinal))
        {
            return amount;
        }

        if (!Rates.TryGetValue(currency, out var rate))
        {
            return null;
        }

        var converted = amount * rate;
        return Money.IsStorable(converted) ? Money.Round(converted) : null;
    }

    /// <summary>An amount in <paramref name="from"/> converted into <paramref name="to"/> through the reporting currency; null without rates.</summary>
    public decimal? Convert(decimal amount, string from, string to)
    {
        if (string.Equals(from, to, StringComparison.Ordinal))
        {
            return amount;
        }

        var reporting = ToReporting(amount, from);
        if (reporting is null)
        {
            return null;
        }

        if (string.Equals(to, ReportingCurrency, StringComparison.Ordinal))
        {
            return reporting;
        }

        return Rates.TryGetValue(to, out var rate) && rate > 0 ? Money.Round(reporting.Value / rate) : null;
    }
}

/// <summary>
/// The rules of every configured site by id. A site that is not configured (events of a site added to ingest but not
/// yet to this host) is attributed with the defaults: a 7-day window, USD, no goals.
/// </summary>
public sealed class SiteRulebook
{
    private readonly EngineSettings settings;
    private readonly Dictionary<string, SiteRules> defaults = new(StringComparer.Ordinal);
    private readonly SiteCatalog? catalog;
    private FrozenDictionary<string, SiteRules> sites;
    private long catalogVersion;

    public SiteRulebook(IEnumerable<SiteOptions> sites, EngineSettings settings)
    {
        ArgumentNullException.ThrowIfNull(sites);
        this.settings = settings ?? throw new ArgumentNullException(nameof(settings));
        this.sites = Build(sites, settings);
    }

    /// <summary>The rules of the control plane's live catalog: rebuilt when a site's settings change there.</summary>
    public SiteRulebook(SiteCatalog catalog, EngineSettings settings)
        : this([], settings)
    {
        this.catalog = catalog ?? throw new ArgumentNullException(nameof(catalog));
        catalogVersion = -1;
    }

    public EngineSettings Settings => settings;

    public SiteRules For(string site)
    {
        // Only the consumer loop's thread calls this; a version read before the contents at worst rebuilds once more.
        if (catalog is not null && catalog.Version != catalogVersion)
        {
            catalogVersion = catalog.Version;
            sites = Build(catalog.All, settings);
            defaults.Clear();
        }

        if (sites.TryGetValue(site, out var rules))
        {
            return rules;
        }

        // Only touched by the consumer loop's thread.
        if (!defaults.TryGetValue(site, out rules))
        {
            rules = new SiteRules(new SiteOptions { Id = site }, settings);
            defaults[site] = rules;
        }

        return rules;
    }

    private static FrozenDictionary<string, SiteRules> Build(IEnumerable<SiteOptions> sites, EngineSettings settings) =>
        sites.ToFrozenDictionary(s => s.Id, s => new SiteRules(s, settings), StringComparer.Ordinal);
}
