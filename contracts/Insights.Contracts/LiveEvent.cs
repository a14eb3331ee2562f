using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Insights.Contracts;

/// <summary>
/// One event on <see cref="Topics.Enriched"/>: what a live view needs of it, after enrichment and sessions, under the
/// site's privacy mode. Produced by the processors, read by live presence (the query API). Version 1; the field list
/// and its meaning are in <c>docs/live.md</c>. Fields a type does not use stay null and are not written.
/// </summary>
/// <remarks>
/// Only people are published: bot and datacenter events are never on the topic, so the schema has no bot flag to
/// forget to check. Adding a field is compatible (readers ignore unknown fields); renaming, dropping or changing the
/// meaning of one is a new version (<see cref="V"/>), which readers refuse until they know it.
/// </remarks>
public sealed record LiveEvent
{
    /// <summary>Schema version; readers skip versions they do not know.</summary>
    public int V { get; init; } = LiveEventCodec.Version;

    public required string EventId { get; init; }

    /// <summary>The event type (<see cref="EventTypes"/>).</summary>
    public required string Type { get; init; }

    /// <summary>A track's event name (<c>engagement</c>, <c>add_to_cart</c>), a page or screen call's name.</summary>
    public string? Name { get; init; }

    public required string SiteId { get; init; }

    /// <summary>The first-party anonymous visitor id; null for events that name no visitor (a chat on WhatsApp).</summary>
    public string? VisitorId { get; init; }

    public string? UserId { get; init; }

    public required DateTimeOffset Timestamp { get; init; }

    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>The visit (session) as the processors cut it; null for an event a replay had already stored, or no visitor.</summary>
    public LiveVisit? Visit { get; init; }

    public string? Url { get; init; }

    /// <summary>The URL's path, as the reports store it.</summary>
    public string? Path { get; init; }

    public string? Title { get; init; }

    /// <summary>The page's referrer (for a single-page app's navigation, the page before).</summary>
    public string? Referrer { get; init; }

    /// <summary>The event's own campaign tags (from its URL or context).</summary>
    public LiveCampaign? Campaign { get; init; }

    /// <summary>The business behind the visitor's network; null for consumer ISPs, carriers, hosters, anonymizers.</summary>
    public LiveCompany? Company { get; init; }

    public LiveGeo? Geo { get; init; }

    public LiveDevice? Device { get; init; }

    /// <summary>The IP as the site's privacy mode lets it out: full, truncated (IPv4 /24, IPv6 /48) or null.</summary>
    public string? Ip { get; init; }

    /// <summary>The raw user agent, only for sites that keep full IPs.</summary>
    public string? UserAgent { get; init; }

    /// <summary>Chat events: the chat id in the chat platform.</summary>
    public string? ChatId { get; init; }

    /// <summary>Orders: the total (order) or refund; a track event's numeric <c>value</c>/<c>revenue</c> (a cart).</summary>
    public decimal? Amount { get; init; }

    public string? Currency { get; init; }

    /// <summary>The tracker's <c>engagement</c> event: milliseconds the page was visible since the last report.</summary>
    public long? EngagedMs { get; init; }

    /// <summary>
    /// The visitor's answer to a chat invitation, or an invitation sent: a track event named <c>invitation_sent</c>,
    /// <c>invitation_shown</c>, <c>invitation_accepted</c> or <c>invitation_declined</c> with its <c>invitation_id</c> and
    /// <c>rule_id</c> properties.
    /// </summary>
    public LiveInvitation? Invitation { get; init; }

    /// <summary>
    /// Values the site put in a track or page event's <c>live</c> object for live rules (a plan, a cart state): at most
    /// <see cref="LiveProperties.MaxCount"/> names of a-z, 0-9, '_', each a short string, number or boolean as text. The
    /// event's other properties never leave storage.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Properties { get; init; }
}

/// <summary>An invitation an event is about.</summary>
/// <param name="Id">The invitation's id (an agent's or a rule's).</param>
/// <param name="Rule">The rule that sent it; null for an agent's invitation.</param>
/// <param name="Message">invitation_sent: what the invitation says.</param>
public sealed record LiveInvitation(string Id, string? Rule, string? Message = null);

/// <summary>Bounds of <see cref="LiveEvent.Properties"/>.</summary>
public static class LiveProperties
{
    public const int MaxCount = 8;
    public const int MaxValueLength = 200;
}

/// <summary>The track event names of the invitation funnel (the visitor's page reports shown/accepted/declined).</summary>
public static class InvitationEvents
{
    public const string Sent = "invitation_sent";
    public const string Shown = "invitation_shown";
    public const string Accepted = "invitation_accepted";
    public const string Declined = "invitation_declined";

    /// <summary>An agent dismissed a rule's suggestion on a visitor (every instance's presence drops it).</summary>
    public const string Dismissed = "invitation_dismissed";

    /// <summary>The visitor page's report that the pointer left toward the browser's chrome.</summary>
    public const string ExitIntent = "exit_intent";

    /// <summary>Most characters of an invitation or rule id taken from an event.</summary>
    public const int MaxIdLength = 64;

    public static bool IsInvitation(string? name) => name is Sent or Shown or Accepted or Declined or Dismissed;
}

/// <summary>The visit an event belongs to, as of the batch that processed it.</summary>
/// <param name="SessionId">The processors' session id (the <c>sessions</c> table's key).</param>
/// <param name="StartedAt">When the visit began.</param>
/// <param name="PageViews">Page views of the visit so far: a lead-score input.</param>
/// <param name="Channel">The visit's channel (direct, organic_search, paid, social, referral, email …), from its landing.</param>
/// <param name="LandingReferrer">The referrer the visit arrived with.</param>
/// <param name="Campaign">The visit's campaign tags, from its landing.</param>
public sealed record LiveVisit(string SessionId, DateTimeOffset StartedAt, int PageViews, string? Channel, string? LandingReferrer, LiveCampaign? Campaign);

public sealed record LiveCampaign(string? Source, string? Medium, string? Name, string? Term, string? Content);

/// <param name="Id">The company id the reports use (<c>/v1/sites/{site}/companies/{id}</c>).</param>
public sealed record LiveCompany(string Id, string Name, string? Domain);

/// <param name="Country">ISO 3166-1 alpha-2.</param>
public sealed record LiveGeo(string Country, string? Region, string? City);

/// <param name="Type">desktop, mobile, tablet, other.</param>
public sealed record LiveDevice(string Type, string Browser, string Os);

/// <summary>
/// The Kafka encoding of <see cref="LiveEvent"/>: UTF-8 JSON (snake_case, nulls left out). A message holds one or more
/// events, one JSON object per line (<see cref="Separator"/> between them, in the order they were stored), so the
/// processors pay the per-message costs of Kafka once per bundle, not per event (<see cref="LiveEventBundle"/>).
/// Compact JSON never holds a raw newline (one inside a string is written <c>\n</c>), so a reader finds the lines
/// without parsing and decodes and checks each on its own. The message schema is in a header so a reader can skip
/// what it does not know without parsing. Measured in <c>benchmarks/README.md</c>.
/// </summary>
/// <remarks>
/// <see cref="Version"/> is the event's (<see cref="LiveEvent.V"/>); <see cref="Schema"/> is the message's. v1 was one
/// event per message; a v1 message is a v2 message of one line, so a v2 reader reads both.
/// </remarks>
public static class LiveEventCodec
{
    public const int Version = 1;
    public const string Schema = "insights.live.v2";

    /// <summary>Between two events of one message.</summary>
    public const byte Separator = (byte)'\n';

    public static readonly byte[] SchemaValue = Encoding.ASCII.GetBytes(Schema);

    /// <summary>A message of one event: UTF-8 JSON, non-ASCII text unescaped (read by our consumers only; presence
    /// re-encodes what it shows).</summary>
    public static byte[] Encode(LiveEvent e) => WireJson.Serialize(e, LiveEventJson.Default.LiveEvent);

    /// <summary>Writes one event's JSON (a line of a message, without its separator).</summary>
    internal static void Write(Utf8JsonWriter writer, LiveEvent e) => JsonSerializer.Serialize(writer, e, LiveEventJson.Default.LiveEvent);

    /// <summary>The lines of a message, each one event's JSON; empty lines are not events and are passed over.</summary>
    public static LineEnumerator Lines(ReadOnlySpan<byte> value) => new(value);

    /// <summary>Decodes and checks one event (a line of a message); a failure carries a reason (a metric tag), never an
    /// exception.</summary>
    public static LiveDecodeResult Decode(ReadOnlySpan<byte> value)
    {
        LiveEvent? e;
        try
        {
            e = LiveEventReader.Read(value);
        }
        catch (JsonException error)
        {
            return new(null, "undecodable", error.Message);
        }
        catch (InvalidOperationException error)
        {
            // Utf8JsonReader's word for a string that is not valid UTF-8 (or holds a lone surrogate escape).
            return new(null, "undecodable", error.Message);
        }

        if (e is null)
        {
            return new(null, "undecodable", "the value is JSON null");
        }

        if (e.V != Version)
        {
            return new(null, "unknown_version", $"live event version {e.V} is not supported");
        }

        return string.IsNullOrEmpty(e.EventId) || string.IsNullOrEmpty(e.SiteId) || string.IsNullOrEmpty(e.Type)
            ? new(null, "schema_invalid", "event_id, site_id and type are required")
            : new(e, null, null);
    }

    /// <summary>Walks a message's lines without allocating (<c>foreach (var line in LiveEventCodec.Lines(value))</c>).</summary>
    public ref struct LineEnumerator(ReadOnlySpan<byte> value)
    {
        private ReadOnlySpan<byte> rest = value;

        public ReadOnlySpan<byte> Current { get; private set; }

        public readonly LineEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            while (!rest.IsEmpty)
            {
                var end = rest.IndexOf(Separator);
                Current = end < 0 ? rest : rest[..end];
                rest = end < 0 ? [] : rest[(end + 1)..];
                if (!Current.IsEmpty)
                {
                    return true;
                }
            }

            return false;
        }
    }
}

/// <summary>A decoded live event, or why it could not be decoded.</summary>
public readonly record struct LiveDecodeResult(LiveEvent? Event, string? Reason, string? Detail);

/// <summary>Source-generated JSON for the live event: no reflection per event.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LiveEvent))]
internal sealed partial class LiveEventJson : JsonSerializerContext;
