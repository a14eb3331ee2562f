using System.ComponentModel;

namespace Insights.QueryApi.Partners;

/// <summary>A client site a partner's roll-up covers, with the client organisation it belongs to.</summary>
public sealed record ClientSite(
    [property: Description("Site id.")] string Id,
    [property: Description("Site name.")] string Name,
    [property: Description("The client organisation's id.")] Guid Organisation,
    [property: Description("The client organisation's name.")] string OrganisationName);

/// <summary>
/// What a caller may see of a partner: the client sites, resolved and authorized before a roll-up runs. The roll-up
/// handlers read only these sites, so a partner's roll-up can never contain another partner's data.
/// </summary>
public sealed record PartnerScope(Guid Partner, IReadOnlyList<ClientSite> Sites);
