using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

namespace Insights.ControlPlane.Cli.Events;

/// <summary>Why a line was not sent: a machine-readable reason and the sentence that tells the operator what is wrong.</summary>
public readonly record struct LineProblem(long Line, string Reason, string Detail)
{
    public override string ToString() => $"line {Line.ToString(CultureInfo.InvariantCulture)}: {Reason}: {Detail}";
}

/// <summary>What became of a line: an event to send (its JSON), nothing to send (a blank line), or a problem.</summary>
public readonly record struct PreparedLine(long Line, byte[]? Event, LineProblem? Problem)
{
    public bool IsBlank => Event is null && Problem is null;
}

/// <summary>
/// Turns one NDJSON line into the event <c>POST /v1/events</c> receives, or says why not. The line is an event in the
/// <c>/v1/events</c> (Segment-style) shape; ingest stays the judge of everything about it except what only an import
/// must add:
/// <list type="bullet">
/// <item>an id: the line's <c>messageId</c> (or <c>event_id</c>, without an export's <c>srv:</c>/<c>pub:</c>
/// namespace), else one derived from the line's bytes, so a re-run sends the same ids and storage keeps each event
/// once (<c>events</c> is deduplicated on <c>event_id</c>);</item>
/// <item>a timestamp, required and inside ingest's window: ingest replaces a time outside
/// [now − <c>Ingest:MaxPastAge</c>, now + <c>Ingest:MaxFutureSkew</c>] (or a missing one) by the time it received the
/// event, which would move history to today and make every re-run a new row;</item>
/// <item><c>sentAt</c> removed: ingest would shift the timestamp by the sender's clock skew, and an export's
/// <c>sentAt</c> is long past;</item>
/// <item>a line naming another site (<c>site_id</c>/<c>siteId</c>) is refused: the key decides the site, and a file
/// of another site's events is a mistake to report, not to import.</item>
/// </list>
/// </summary>
public sealed class ImportLinePreparer(string site, DateTimeOffset now, TimeSpan maxPastAge, TimeSpan maxFutureSkew, int maxIdLength = 256)
{
    /// <summary>The namespace of ids this importer derives from a line's bytes.</summary>
    public const string DerivedIdPrefix = "imp-";

    public PreparedLine Prepare(in RawLine raw)
    {
        if (raw.TooLong)
        {
            return Fail(raw.Number, "line_too_long",
                $"{raw.Length.ToString(CultureInfo.InvariantCulture)} bytes; at most the bound (--max-line-bytes, ingest's Ingest:MaxEventBytes) per event");
        }

        var bytes = raw.Bytes.Span;
        if (bytes.Trim(" \t"u8).IsEmpty)
        {
            return new PreparedLine(raw.Number, null, null);
        }

        if (!Utf8.IsValid(bytes))
        {
            return Fail(raw.Number, "invalid_utf8", "the line is not valid UTF-8; convert the file to UTF-8");
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException error)
        {
            return Fail(raw.Number, "invalid_json", error.Message);
        }

        if (node is not JsonObject e)
        {
            return Fail(raw.Number, "not_an_object", "each line must be one JSON object (an event)");
        }

        if (e["table"] is not null)
        {
            // A line of the query API's subject export: an events row becomes the event it was, other rows are not events.
            if (FromExportRow(e) is not { } exported)
            {
                return new PreparedLine(raw.Number, null, null);
            }

            e = exported;
        }

        foreach (var name in (ReadOnlySpan<string>)["site_id", "siteId"])
        {
            if (e[name] is { } named)
            {
                var other = named.GetValueKind() == JsonValueKind.String ? named.GetValue<string>() : named.ToJsonString();
                if (!string.Equals(other, site, StringComparison.Ordinal))
                {
                    return Fail(raw.Number, "other_site", $"the event names site '{Shorten(other)}', not '{site}'; import it into its own site with that site's server key");
                }

                e.Remove(name);
            }
        }

        if (Timestamp(e) is { } problem)
        {
            return Fail(raw.Number, problem.Reason, problem.Detail);
        }

        e.Remove("sentAt");
        // A key in the body is never the import's: the header's server key decides the site.
        e.Remove("writeKey");
        if (!TryId(e, bytes, out var failure))
        {
            return Fail(raw.Number, "invalid_id", failure);
        }

        return new PreparedLine(raw.Number, JsonSerializer.SerializeToUtf8Bytes(e), null);
    }

    /// <summary>
    /// An <c>events</c> row of <c>POST /v1/sites/{site}/subjects/export</c> (<c>{"table":"events", column: value, ...}</c>)
    /// as the <c>/v1/events</c> event that made it; null for every other row (<c>_subject</c>, <c>_end</c>, sessions ...).
    /// </summary>
    public static JsonObject? FromExportRow(JsonObject row)
    {
        ArgumentNullException.ThrowIfNull(row);
        string Text(string column) => row[column] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : "";
        if (Text("table") != "events")
        {
            return null;
        }

        var type = Text("type");
        var e = new JsonObject { ["type"] = type, ["event_id"] = Text("event_id"), ["site_id"] = Text("site_id"), ["timestamp"] = Text("timestamp") };
        void Put(JsonObject target, string name, string value)
        {
            if (value.Length > 0)
            {
                target[name] = value;
            }
        }

        Put(e, type == "track" ? "event" : "name", Text("name"));
        Put(e, "anonymousId", Text("anonymous_id"));
        Put(e, "userId", Text("user_id"));
        if (Text("properties") is { Length: > 0 } properties)
        {
            try
            {
                if (JsonNode.Parse(properties) is JsonObject parsed)
                {
                    e["properties"] = parsed;
                }
            }
            catch (JsonException)
            {
                // A stored value that is not an object is left out, as ingest would have refused it.
            }
        }

        var page = new JsonObject();
        Put(page, "url", Text("url"));
        Put(page, "referrer", Text("referrer"));
        Put(page, "title", Text("title"));
        var campaign = new JsonObject();
        foreach (var (column, name) in (ReadOnlySpan<(string, string)>)[("utm_source", "source"), ("utm_medium", "medium"), ("utm_campaign", "name"), ("utm_term", "term"), ("utm_content", "content")])
        {
            Put(campaign, name, Text(column));
        }

        var context = new JsonObject();
        if (page.Count > 0)
        {
            context["page"] = page;
        }

        if (campaign.Count > 0)
        {
            context["campaign"] = campaign;
        }

        Put(context, "userAgent", Text("user_agent"));
        Put(context, "ip", Text("ip"));
        Put(context, "locale", Text("locale"));
        if (context.Count > 0)
        {
            e["context"] = context;
        }

        return e;
    }

    /// <summary><c>imp-</c> + 32 hex digits of the SHA-256 of the line: the same line always gets the same id.</summary>
    public static string DerivedId(ReadOnlySpan<byte> line) => DerivedIdPrefix + Convert.ToHexStringLower(SHA256.HashData(line))[..32];

    private (string Reason, string Detail)? Timestamp(JsonObject e)
    {
        if (e["timestamp"] is not { } value)
        {
            return ("missing_timestamp", "a back-filled event needs \"timestamp\" (when it happened, ISO 8601); without one ingest would date it now");
        }

        if (value.GetValueKind() != JsonValueKind.String
            || !DateTimeOffset.TryParse(value.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return ("invalid_timestamp", "\"timestamp\" must be an ISO 8601 string such as 2026-11-30T14:05:00Z");
        }

        // Normalized: an export writes ClickHouse's "2026-12-01 10:00:00.000", which ingest reads as ISO 8601 only.
        e["timestamp"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        if (at < now - maxPastAge)
        {
            return ("too_old", $"{at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)} is older than ingest accepts ({Days(maxPastAge)}): " +
                "ingest would date it now. Raise Ingest:MaxPastAge on ingest and pass the same --max-past-age");
        }

        return at > now + maxFutureSkew
            ? ("in_future", $"{at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)} is in the future (more than {Days(maxFutureSkew)} ahead)")
            : null;
    }

    private bool TryId(JsonObject e, ReadOnlySpan<byte> line, out string failure)
    {
        failure = "";
        var given = e["messageId"] ?? e["event_id"];
        e.Remove("event_id");
        if (given is null)
        {
            e["messageId"] = DerivedId(line);
            return true;
        }

        if (given.GetValueKind() != JsonValueKind.String || given.GetValue<string>() is not { Length: > 0 } id)
        {
            failure = "\"messageId\" must be a non-empty string";
            return false;
        }

        // An export's ids carry the namespace of the key that sent them; ingest puts the server key's in front again.
        foreach (var prefix in (ReadOnlySpan<string>)["srv:", "pub:"])
        {
            if (id.StartsWith(prefix, StringComparison.Ordinal))
            {
                id = id[prefix.Length..];
            }
        }

        if (id.Length == 0 || id.Length > maxIdLength)
        {
            failure = $"\"messageId\" must have 1 to {maxIdLength} characters";
            return false;
        }

        e["messageId"] = id;
        return true;
    }

    private static string Days(TimeSpan span) => span.TotalDays >= 1
        ? $"{span.TotalDays.ToString("0.##", CultureInfo.InvariantCulture)} days"
        : $"{span.TotalHours.ToString("0.##", CultureInfo.InvariantCulture)} hours";

    // Printed to a terminal: control characters in hostile input must not move the cursor or change colours.
    private static string Shorten(string value) =>
        string.Concat((value.Length <= 64 ? value : value[..64] + "…").Select(c => char.IsControl(c) ? '?' : c));

    private static PreparedLine Fail(long line, string reason, string detail) => new(line, null, new LineProblem(line, reason, detail));
}
