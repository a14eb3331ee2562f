using System.ComponentModel.DataAnnotations;

namespace Insights.QueryApi.Partners;

/// <summary>Bounds of the partner roll-ups (section <c>Partners</c>): one ClickHouse query covers every site of a call.</summary>
public sealed class PartnerRollupOptions
{
    public const string Section = "Partners";

    /// <summary>Most sites one roll-up call may cover. Higher lets a large agency see everything at once but makes one
    /// query scan that many sites' rows; past it, the caller picks sites with <c>sites=</c>.</summary>
    [Range(1, 10_000)]
    public int MaxSites { get; set; } = 500;

    /// <summary>Minutes that count as "now" for <c>/companies/now</c>: companies with a visit active in this window.
    /// Longer shows more companies but some that have already left.</summary>
    [Range(1, 120)]
    public int LiveWindowMinutes { get; set; } = 5;
}
