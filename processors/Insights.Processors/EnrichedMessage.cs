using System.Text.Json;
using Insights.Contracts;
using Insights.Enrichment;
using Insights.Processors.Sessions;

namespace Insights.Processors;

/// <summary>
/// The <c>insights.enriched</c> value of an event: a <see cref="LiveEvent"/> (schema <see cref="LiveEventCodec.Schema"/>)
/// with what live presence shows — the visit, page, campaign, company, location and device — carrying no more of the
/// visitor than the site's IP privacy mode lets storage keep.
/// </summary>
/// <remarks>
/// <para>The IP is the one enrichment stored (<see cref="EnrichedEvent.IpText"/>): full, truncated (IPv4 /24, IPv6 /48)
/// or none. The raw user agent goes out only for sites that keep full IPs: a full user-agent string (exact browser and
/// OS builds) next to a /24 network singles a visitor out again, which is what truncating was for, and the topic is a
/// broadcast any presence consumer reads, not the access-controlled store. The parsed device (type, browser, OS) is
/// always there.</para>
/// <para>The event's free-form properties stay out (they are the site's, unbounded in shape): only a cart's
/// <c>value</c>/<c>revenue</c>, the tracker's <c>engaged_ms</c>, an invitation event's <c>invitation_id</c>/<c>rule_id</c>
/// and the values the site put in a <c>live</c> object for live rules (bounded, see <see cref="LiveEvent.Properties"/>)
/// are lifted into fields.</para>
/// </remarks>
public static class EnrichedMessage
{
    private const string EngagementEvent = "engagement";

    /// <param name="path">The URL's path as the events row stores it.</param>
    /// <param name="session">The event's visit as of the end of its batch, or null (a replayed event, no visitor).</param>
    public static byte[] Encode(PipelineEvent e, in EnrichedEvent enriched, string? path, Session? session) =>
        LiveEventCodec.Encode(ToLiveEvent(e, enriched, path, session));

    public static LiveEvent ToLiveEvent(PipelineEvent e, in EnrichedEvent enriched, string? path, Session? session)
    {
        ArgumentNullException.ThrowIfNull(e);
        var full = enriched.IpStorage == IpStorageMode.Full;
        var device = enriched.Device;
        return new LiveEvent
        {
            EventId = e.EventId,
            Type = e.Type,
            Name = e.Name,
            SiteId = e.SiteId,
            VisitorId = e.AnonymousId,
            UserId = e.UserId,
            Timestamp = e.Timestamp,
            ReceivedAt = e.ReceivedAt,
            Visit = session is null ? null : new LiveVisit(session.Id, new DateTimeOffset(session.StartedAt, TimeSpan.Zero),
                (int)Math.Min(session.PageViews, int.MaxValue), Empty(session.Channel), Empty(session.LandingReferrer),
                Campaign(session.UtmSource, session.UtmMedium, session.UtmCampaign, session.UtmTerm, session.UtmContent)),
            Url = e.Url,
            Path = Empty(path),
            Title = e.Title,
            Referrer = e.Referrer,
            Campaign = Campaign(e.UtmSource, e.UtmMedium, e.UtmCampaign, e.UtmTerm, e.UtmContent),
            Company = enriched.Business is { } company ? new LiveCompany(CompanyIds.Of(company), company.Name, company.Domain) : null,
            Geo = enriched.Geo is { } geo ? new LiveGeo(geo.CountryCode, geo.Region, geo.City) : null,
            Device = device is null ? null : new LiveDevice(device.Type, device.Browser, device.Os),
            Ip = enriched.IpText,
            UserAgent = full ? e.UserAgent : null,
            ChatId = e.ChatId,
            Amount = e.Amount ?? (e.Type == EventTypes.Track ? Number(e.Properties, "value") ?? Number(e.Properties, "revenue") : null),
            Currency = e.Currency ?? (e.Type == EventTypes.Track ? Text(e.Properties, "currency") : null),
            EngagedMs = e.Type == EventTypes.Track && e.Name == EngagementEvent && Number(e.Properties, "engaged_ms") is { } ms and >= 0 and <= long.MaxValue
                ? (long)ms : null,
            Invitation = e.Type == EventTypes.Track && InvitationEvents.IsInvitation(e.Name) && Id(e.Properties, "invitation_id") is { } invitation
                ? new LiveInvitation(invitation, Id(e.Properties, "rule_id"), e.Name == InvitationEvents.Sent ? Text(e.Properties, "message", 500) : null)
                : null,
            Properties = e.Type is EventTypes.Track or EventTypes.Pageview ? LiveProperties(e.Properties) : null,
        };
    }

    /// <summary>The event's <c>live</c> object, bounded: the site's explicit choice of values live rules may read.</summary>
    private static Dictionary<string, string>? LiveProperties(JsonElement? properties)
    {
        if (properties is not { ValueKind: JsonValueKind.Object } p || !p.TryGetProperty("live", out var live) || live.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        Dictionary<string, string>? lifted = null;
        foreach (var property in live.EnumerateObject())
        {
            if (lifted?.Count >= Contracts.LiveProperties.MaxCount)
            {
                break;
            }

            var value = property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString(),
                JsonValueKind.Number => property.Value.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            };
            if (value is { Length: <= Contracts.LiveProperties.MaxValueLength } && InvitationRuleValidation.IsPropertyName(property.Name))
            {
                (lifted ??= new(StringComparer.Ordinal))[property.Name] = value;
            }
        }

        return lifted;
    }

    private static string? Id(JsonElement? properties, string name) =>
        properties is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 and <= InvitationEvents.MaxIdLength } id
        && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or ':' or '.') ? id : null;

    private static LiveCampaign? Campaign(string? source, string? medium, string? name, string? term, string? content) =>
        (Empty(source), Empty(medium), Empty(name), Empty(term), Empty(content)) is var c && c == default
            ? null
            : new LiveCampaign(c.Item1, c.Item2, c.Item3, c.Item4, c.Item5);

    private static string? Empty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static decimal? Number(JsonElement? properties, string name) =>
        properties is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var number) ? number : null;

    private static string? Text(JsonElement? properties, string name, int maxLength = 8) =>
        properties is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text && text.Length <= maxLength ? text : null;
}
