using System.ComponentModel;
using Insights.QueryApi.Companies;

namespace Insights.QueryApi.Partners;

/// <summary>Companies seen across a partner's client sites, most promising first.</summary>
public sealed record PartnerCompaniesResponse(
    [property: Description("The partner's id.")] Guid Partner,
    [property: Description("Start of the range (inclusive, UTC); for 'now', the start of the live window.")] DateTimeOffset From,
    [property: Description("End of the range (exclusive, UTC); also the moment recency is measured from.")] DateTimeOffset To,
    [property: Description("True for the live view: companies with a visit active in the last minutes.")] bool Live,
    [property: Description("The client sites covered.")] IReadOnlyList<ClientSite> Sites,
    [property: Description("Companies seen on those sites, before the limit.")] long Total,
    [property: Description("Companies, by their best lead score at any one client, then latest seen.")] IReadOnlyList<PartnerCompany> Companies,
    [property: Description("Credit to show with the data.")] DataAttribution Attribution);

/// <summary>A company's activity across the partner's client sites.</summary>
public sealed record PartnerCompany(
    [property: Description("Company id, as the site reports use it.")] string Id,
    [property: Description("The company's name, as the IP data names its network.")] string Name,
    [property: Description("The company's domain when a source knows it.")] string? Domain,
    [property: Description("The highest lead score the company has at one client site (the per-site score, not a sum: interest in two unrelated clients is not one buying intent).")] int Score,
    [property: Description("Visits on all the sites.")] long Visits,
    [property: Description("Distinct visitors, summed over the sites (visitor ids are per site).")] long Visitors,
    [property: Description("Page views on all the sites.")] long PageViews,
    [property: Description("End of the latest visit.")] DateTimeOffset LastSeen,
    [property: Description("Where the company was seen: one entry per client site, highest score first.")] IReadOnlyList<CompanyAtSite> Sites);

/// <summary>A company on one client site: the same numbers as that site's company report over the same range.</summary>
public sealed record CompanyAtSite(
    [property: Description("Site id.")] string Site,
    string SiteName,
    [property: Description("The client organisation's id.")] Guid Organisation,
    string OrganisationName,
    [property: Description("Lead score 0-100 on this site, as the site's company report computes it.")] int Score,
    long Visits,
    long Visitors,
    long PageViews,
    DateTimeOffset LastSeen);

/// <summary>Revenue per client organisation; amounts per reporting currency, never added across currencies.</summary>
public sealed record PartnerRevenueResponse(
    [property: Description("The partner's id.")] Guid Partner,
    [property: Description("Start of the range (inclusive, UTC).")] DateTimeOffset From,
    [property: Description("End of the range (exclusive, UTC).")] DateTimeOffset To,
    [property: Description("The attribution model of the chat-attributed figures.")] string Model,
    [property: Description("Each client organisation with at least one covered site, by name.")] IReadOnlyList<ClientRevenue> Clients,
    [property: Description("All clients together, one entry per currency.")] IReadOnlyList<CurrencyRevenue> Totals);

public sealed record ClientRevenue(
    [property: Description("The client organisation's id.")] Guid Organisation,
    string Name,
    [property: Description("The organisation's figures, one entry per reporting currency of its sites (empty without orders).")] IReadOnlyList<CurrencyRevenue> Revenue,
    [property: Description("Each covered site of the organisation with its own figures.")] IReadOnlyList<SiteRevenue> Sites);

public sealed record SiteRevenue(
    [property: Description("Site id.")] string Site,
    string Name,
    [property: Description("One entry per reporting currency of the site's orders in the range (a site whose reporting currency changed has two).")] IReadOnlyList<CurrencyRevenue> Revenue);

/// <summary>Sales in one reporting currency; the same definitions as a site's sales report.</summary>
public sealed record CurrencyRevenue(
    [property: Description("ISO 4217 reporting currency of every amount in this entry.")] string Currency,
    [property: Description("Orders placed in the range and not cancelled.")] long Orders,
    [property: Description("Net revenue: order totals minus refunds, cancelled orders at zero.")] decimal Revenue,
    [property: Description("Revenue credited to chats under the model (chat_assisted: revenue of orders with a chat in their window).")] decimal ChatAttributedRevenue,
    [property: Description("Orders credited to at least one chat under the model.")] long ChatAttributedOrders,
    [property: Description("Orders in a currency the site has no rate for: counted in Orders, left out of every amount.")] long UnconvertedOrders);
