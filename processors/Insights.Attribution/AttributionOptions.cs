using System.ComponentModel.DataAnnotations;
using Insights.Attribution.Engine;
using Insights.Contracts;
using Insights.Processors.Consuming;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Insights.Attribution;

/// <summary>How attribution runs (section <c>Attribution</c>): the consumer group that records how far it got, and the
/// engine's settings. It runs inside the processors' batches (their <c>Processors</c> and <c>Kafka</c> settings say what is
/// read and how). Per-site rules (window, half-life, currencies, goals, weak linking) are in each site's
/// <see cref="SiteOptions"/>.</summary>
public sealed class AttributionOptions
{
    public const string SectionName = "Attribution";

    /// <summary>
    /// The consumer group whose committed offsets say how far attribution got (<see cref="AttributionProgress"/>): ingest's
    /// back-pressure and the dev stack's trimmer read it, and a processor resumes from it when it is behind its own.
    /// </summary>
    [Required]
    [RegularExpression(ConsumerGroupOptions.TopicName, ErrorMessage = ConsumerGroupOptions.GroupIdMessage)]
    public string GroupId { get; set; } = "insights-attribution";

    /// <summary>Off: the processors attribute nothing (for a host that should only fill the events table).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>One load query or insert slower than this fails the attempt, which is retried (an outage).</summary>
    [Range(1, 600)]
    public int QueryTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// A component (one person's ids, chats and orders) bigger than this is cut while loading and the cut counted: a
    /// shared e-mail like "test@test" must not pull half the site into every batch.
    /// </summary>
    [Range(10, 1_000_000)]
    public int MaxComponentNodes { get; set; } = 5_000;

    /// <summary>
    /// Breadth-first rounds (one query each) when loading a component; a person's ids are rarely more than 3 links apart.
    /// </summary>
    [Range(1, 64)]
    public int MaxLoadRounds { get; set; } = 8;

    /// <summary>An order up to this long after a chat ended counts as placed "during" it.</summary>
    [Range(0, 24 * 60)]
    public int DuringChatGraceMinutes { get; set; } = 60;

    /// <summary>
    /// Global switch of the same-IP-and-user-agent fallback (sites can turn it off for themselves with WeakIdentityLinking).
    /// </summary>
    public bool WeakLinking { get; set; } = true;

    /// <summary>
    /// How close a chat or order and a page view of the same IP and user agent must be; wider links more and guesses more.
    /// </summary>
    [Range(1, 24 * 60)]
    public int WeakLinkWindowMinutes { get; set; } = 10;

    /// <summary>
    /// Bytes of IP + user-agent pairs remembered for weak linking (estimated from their strings: ~0.5 KB a pair, a few KB
    /// with hostile user agents and ids). Less forgets sooner under heavy traffic, and a forgotten pair links nothing:
    /// the pairs are not stored anywhere, on purpose.
    /// </summary>
    [Range(typeof(long), "65536", "17179869184")]
    public long WeakLinkMaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Bytes of stored strong links remembered (~0.3 KB each), so a logged-in visitor's every page view does not reload
    /// their component. Over it the memory is emptied: each link is then written and its component loaded once more.
    /// </summary>
    [Range(typeof(long), "65536", "17179869184")]
    public long KnownLinksMaxBytes { get; set; } = 64L * 1024 * 1024;

    public EngineSettings ToEngineSettings() => new()
    {
        DuringChatGrace = TimeSpan.FromMinutes(DuringChatGraceMinutes),
        WeakLinking = WeakLinking,
        WeakLinkWindow = TimeSpan.FromMinutes(WeakLinkWindowMinutes),
        WeakLinkMaxBytes = WeakLinkMaxBytes,
        KnownLinksMaxBytes = KnownLinksMaxBytes,
    };
}

/// <summary>
/// Rules across settings, and the attribution settings of every configured site (window, half-life, currencies, goals):
/// a site the engine could not attribute correctly stops the start-up, naming the key.
/// </summary>
internal sealed class AttributionOptionsValidator(IConfiguration configuration) : IValidateOptions<AttributionOptions>
{
    public ValidateOptionsResult Validate(string? name, AttributionOptions options)
    {
        var failures = ValidateSites(AttributionSites.From(configuration)).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The configured sites against the one rule set for site settings (<see cref="SiteValidation"/>).</summary>
    public static IEnumerable<string> ValidateSites(IReadOnlyList<SiteOptions> sites) =>
        sites.SelectMany((site, i) => SiteValidation.Check(site, $"{SiteCatalogRegistration.Section}:{i}"));
}

/// <summary>The sites as configured (section <c>Sites</c>), read on their own: a processors host may run without any.</summary>
internal static class AttributionSites
{
    public static List<SiteOptions> From(IConfiguration configuration) =>
        configuration.GetSection(SiteCatalogRegistration.Section).Get<List<SiteOptions>>() ?? [];
}
