using System.Text.RegularExpressions;
using ClickHouse.Driver.ADO.Parameters;
using ClickHouse.Driver.Utility;

namespace Insights.QueryApi.Stats;

/// <summary>
/// The overview's filters, one model for every panel: each query of the report appends the same constant conditions and
/// binds the same typed parameters (<c>{f_country:String}</c> …), an empty parameter meaning "not filtered". Nothing a
/// caller sends is ever part of the SQL text.
/// </summary>
/// <remarks>
/// A filter is a property of a <b>visit</b> (a <c>sessions</c> row: its country, channel, company, landing referrer and
/// campaign, the pages it included). Visit figures keep the visits that match; page-view figures keep the page views of
/// those visits (by the <c>session_id</c> the processors stamp on each event), and the page filter also keeps only the
/// page views of that page, so "top pages" under <c>page=/pricing</c> is /pricing alone while entry pages are where the
/// visits that saw /pricing began.
/// </remarks>
public sealed partial record StatsFilter(string Page, string Country, string Channel, string Company, string Referrer, string Campaign)
{
    /// <summary>The query parameters that are filters, in the order the documentation lists them.</summary>
    public static readonly IReadOnlyList<string> Names = ["page", "country", "channel", "company", "referrer", "campaign"];

    /// <summary>The channels the processors classify visits into (<c>Insights.Processors.Sessions.Channels</c>).</summary>
    public static readonly IReadOnlyList<string> KnownChannels = ["search", "social", "email", "paid", "referral", "direct"];

    public static StatsFilter None { get; } = new("", "", "", "", "", "");

    private const int MaxPathLength = 1024;
    private const int MaxHostLength = 253;
    private const int MaxCampaignLength = 200;

    /// <summary>Conditions on a <c>sessions</c> row.</summary>
    public const string VisitConditions = """

          AND ({f_page:String} = '' OR has(pages, {f_page:String}))
          AND ({f_country:String} = '' OR country = {f_country:String})
          AND ({f_channel:String} = '' OR channel = {f_channel:String})
          AND ({f_company:String} = '' OR company_id = {f_company:String})
          AND ({f_referrer:String} = '' OR replaceRegexpOne(lower(referrer_host), '^www\\.', '') = {f_referrer:String})
          AND ({f_campaign:String} = '' OR utm_campaign = {f_campaign:String})
        """;

    /// <summary>Conditions on an <c>events</c> row when only the page is filtered (no visit needs looking up).</summary>
    public const string PageConditions = """

          AND ({f_page:String} = '' OR path = {f_page:String})
        """;

    /// <summary>
    /// Conditions on an <c>events</c> row when a visit property is filtered: the page views of matching visits. A visit
    /// is looked for among those that began up to a day before the range (a page view at 00:10 belongs to a visit begun
    /// at 23:50); a page view of a visit longer than that is not counted under a filter.
    /// </summary>
    public const string VisitEventConditions = PageConditions + """
          AND session_id IN (
              SELECT session_id FROM sessions FINAL
              WHERE site_id = {site:String}
                AND started_at >= {from:DateTime64(3, 'UTC')} - INTERVAL 1 DAY
                AND started_at < {to:DateTime64(3, 'UTC')}
        """ + VisitConditions + ")\n";

    public bool IsEmpty => this == None;

    /// <summary>True when a filter other than the page needs the visits looked up for page-view figures.</summary>
    public bool FiltersVisits => Country.Length > 0 || Channel.Length > 0 || Company.Length > 0 || Referrer.Length > 0 || Campaign.Length > 0;

    /// <summary>The conditions page-view queries append.</summary>
    public string EventConditions => FiltersVisits ? VisitEventConditions : PageConditions;

    public StatsFilters ToResponse() => new(Optional(Page), Optional(Country), Optional(Channel), Optional(Company), Optional(Referrer), Optional(Campaign));

    public ClickHouseParameterCollection AddTo(ClickHouseParameterCollection parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.AddParameter("f_page", Page);
        parameters.AddParameter("f_country", Country);
        parameters.AddParameter("f_channel", Channel);
        parameters.AddParameter("f_company", Company);
        parameters.AddParameter("f_referrer", Referrer);
        parameters.AddParameter("f_campaign", Campaign);
        return parameters;
    }

    /// <summary>Validates the raw values; each error names its parameter and never echoes the value.</summary>
    public static StatsFilter Parse(string? page, string? country, string? channel, string? company, string? referrer, string? campaign,
        Dictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return new StatsFilter(
            Check("page", page, v => v.Length <= MaxPathLength && v[0] == '/' && !HasControl(v), v => v,
                $"'page' must be a path starting with '/', at most {MaxPathLength} characters.", errors),
            Check("country", country, v => v.Length == 2 && char.IsAsciiLetter(v[0]) && char.IsAsciiLetter(v[1]), v => v.ToUpperInvariant(),
                "'country' must be an ISO 3166-1 alpha-2 code such as DE.", errors),
            Check("channel", channel, v => KnownChannels.Contains(v.ToLowerInvariant()), v => v.ToLowerInvariant(),
                $"'channel' must be one of {string.Join(", ", KnownChannels)}.", errors),
            Check("company", company, Companies.CompanyParameters.IsCompanyId, v => v,
                "'company' must be a company id as the company list returns it.", errors),
            Check("referrer", referrer, v => v.Length <= MaxHostLength && Host().IsMatch(v), v => WwwPrefix().Replace(v.ToLowerInvariant(), ""),
                $"'referrer' must be a host name (example.com), at most {MaxHostLength} characters.", errors),
            Check("campaign", campaign, v => v.Length <= MaxCampaignLength && !HasControl(v), v => v,
                $"'campaign' must be at most {MaxCampaignLength} characters of text.", errors));
    }

    private static string Check(string name, string? value, Func<string, bool> valid, Func<string, string> normalize, string message,
        Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        if (valid(value))
        {
            return normalize(value);
        }

        errors[name] = [message];
        return "";
    }

    private static bool HasControl(string value) => value.Any(char.IsControl);

    private static string? Optional(string value) => value.Length == 0 ? null : value;

    // Letters of any script (referrers of internationalised hosts are stored as written), digits, dots, dashes.
    [GeneratedRegex(@"^[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex Host();

    [GeneratedRegex(@"^www\.", RegexOptions.CultureInvariant)]
    private static partial Regex WwwPrefix();
}
