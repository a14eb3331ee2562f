using System.Globalization;
using System.Text.RegularExpressions;

namespace Insights.QueryApi.Stats;

public enum StatsInterval
{
    Hour,
    Day,
}

/// <summary>
/// The validated time range, bucket size and list length of a stats request, read in the site's time zone.
/// <para>
/// <c>from</c>/<c>to</c> accept ISO dates (<c>2026-11-01</c>: midnight in the site's zone) and datetimes with or without
/// an offset (<c>2026-11-01T10:00</c> is wall time in the site's zone, <c>2026-11-01T10:00:00Z</c> an instant); <c>to</c>
/// is exclusive; both are floored to whole seconds. Missing <c>to</c> is the end of today in the site's zone, missing
/// <c>from</c> is <c>to</c> minus the default range, so the default is the last 7 calendar days including today.
/// </para>
/// </summary>
public sealed partial record StatsRange(DateTimeOffset From, DateTimeOffset To, StatsInterval Interval, int Limit, TimeZoneInfo TimeZone)
{
    // The longest valid value is "2026-11-01T10:00:00.1234567+01:00"; anything longer is not a date, whatever it is.
    private const int MaxValueLength = 40;

    // ClickHouse DateTime (used for bucket bounds) covers 1970..2106; a report outside this is a typo.
    private static readonly DateOnly Earliest = new(1970, 1, 2);
    private static readonly DateOnly Latest = new(2100, 12, 31);

    public static bool TryCreate(
        string? from, string? to, string? interval, string? limit,
        TimeZoneInfo zone, DateTimeOffset now, QueryApiOptions options,
        out StatsRange range, out Dictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(zone);
        ArgumentNullException.ThrowIfNull(options);
        errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        range = null!;

        var parsedInterval = ParseInterval(interval, errors);
        var parsedLimit = ParseLimit(limit, options, errors);
        var parsedTo = to is null ? StartOfTomorrow(now, zone) : ParseInstant("to", to, zone, errors);
        var parsedFrom = from is null
            ? parsedTo is { } end ? LocalToInstant(TimeZoneInfo.ConvertTime(end, zone).DateTime.AddDays(-options.DefaultRangeDays), zone) : null
            : ParseInstant("from", from, zone, errors);

        if (parsedFrom is { } start && parsedTo is { } stop && parsedInterval is { } bucket)
        {
            // Lengths are compared in wall-clock time, so "400 days" means 400 calendar days in the site's zone
            // whatever daylight saving did in between.
            var days = (TimeZoneInfo.ConvertTime(stop, zone).DateTime - TimeZoneInfo.ConvertTime(start, zone).DateTime).TotalDays;
            if (start >= stop)
            {
                errors["from"] = ["'from' must be before 'to' ('to' is exclusive)."];
            }
            else if (days > options.MaxRangeDays)
            {
                errors["from"] = [$"The range from 'from' to 'to' spans {Math.Ceiling(days):0} days; at most {options.MaxRangeDays} are allowed."];
            }
            else if (bucket == StatsInterval.Hour && days > options.MaxHourlyRangeDays)
            {
                errors["interval"] = [$"'hour' buckets need a range of at most {options.MaxHourlyRangeDays} days; use 'day' or a shorter range."];
            }
        }

        if (errors.Count > 0)
        {
            return false;
        }

        range = new StatsRange(
            TimeZoneInfo.ConvertTime(parsedFrom!.Value, zone), TimeZoneInfo.ConvertTime(parsedTo!.Value, zone), parsedInterval!.Value, parsedLimit!.Value, zone);
        return true;
    }

    /// <summary>
    /// The period of the same length just before this one, ending where it starts: lengths are wall-clock time in the
    /// site's zone, so the week before a week is seven calendar days whatever daylight saving did.
    /// </summary>
    /// <returns>Null when it would begin before the earliest date a range may (ClickHouse's DateTime starts in 1970).</returns>
    public StatsRange? Previous()
    {
        var wallStart = From.DateTime - (To.DateTime - From.DateTime);
        if (DateOnly.FromDateTime(wallStart) < Earliest)
        {
            return null;
        }

        return this with { From = TimeZoneInfo.ConvertTime(LocalToInstant(wallStart, TimeZone), TimeZone), To = From };
    }

    /// <summary>Every calendar day the range touches in the site's zone, the last one holding the instant before 'to'.</summary>
    public IReadOnlyList<DateOnly> Days()
    {
        var days = new List<DateOnly>();
        var last = DateOnly.FromDateTime(To.AddTicks(-1).DateTime);
        for (var day = DateOnly.FromDateTime(From.DateTime); day <= last; day = day.AddDays(1))
        {
            days.Add(day);
        }

        return days;
    }

    /// <summary>The instant of a wall-clock time in <paramref name="zone"/>, defined for every wall time.</summary>
    /// <remarks>
    /// A time skipped by a daylight-saving jump (02:30 on a spring-forward night) moves forward by the jump, read with the
    /// offset in force before it; a time that happens twice (fall back) is its first occurrence. Both are what a person
    /// asking "from 02:30" means, and neither throws as TimeZoneInfo's conversions would.
    /// </remarks>
    public static DateTimeOffset LocalToInstant(DateTime wallTime, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var wall = DateTime.SpecifyKind(wallTime, DateTimeKind.Unspecified);
        TimeSpan offset;
        if (zone.IsInvalidTime(wall))
        {
            // Transitions are months apart, so a day earlier the pre-jump offset is in force.
            offset = zone.GetUtcOffset(wall.AddDays(-1));
        }
        else if (zone.IsAmbiguousTime(wall))
        {
            offset = zone.GetAmbiguousTimeOffsets(wall).Max();
        }
        else
        {
            offset = zone.GetUtcOffset(wall);
        }

        return new DateTimeOffset(wall, offset).ToUniversalTime();
    }

    private static DateTimeOffset StartOfTomorrow(DateTimeOffset now, TimeZoneInfo zone) =>
        LocalToInstant(TimeZoneInfo.ConvertTime(now, zone).Date.AddDays(1), zone);

    private static StatsInterval? ParseInterval(string? value, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(value) || value.Equals("day", StringComparison.OrdinalIgnoreCase))
        {
            return StatsInterval.Day;
        }

        if (value.Equals("hour", StringComparison.OrdinalIgnoreCase))
        {
            return StatsInterval.Hour;
        }

        errors["interval"] = ["'interval' must be 'hour' or 'day'."];
        return null;
    }

    private static int? ParseLimit(string? value, QueryApiOptions options, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            return options.DefaultLimit;
        }

        if (value.Length <= 6 && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit >= 1 && limit <= options.MaxLimit)
        {
            return limit;
        }

        errors["limit"] = [$"'limit' must be a whole number from 1 to {options.MaxLimit}."];
        return null;
    }

    private static DateTimeOffset? ParseInstant(string name, string value, TimeZoneInfo zone, Dictionary<string, string[]> errors)
    {
        if (value.Length <= MaxValueLength && IsoDateTime().Match(value) is { Success: true } match
            && DateOnly.TryParseExact(match.Groups["date"].Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            && TryParseTime(match.Groups["time"], out var time)
            && TryParseOffset(match.Groups["offset"], out var offset))
        {
            if (date < Earliest || date > Latest)
            {
                errors[name] = [$"'{name}' must be between {Earliest:yyyy-MM-dd} and {Latest:yyyy-MM-dd}."];
                return null;
            }

            var wall = date.ToDateTime(time);
            var instant = offset is { } fixedOffset ? new DateTimeOffset(wall, fixedOffset) : LocalToInstant(wall, zone);
            return FloorToSecond(instant.ToUniversalTime());
        }

        errors[name] = [$"'{name}' must be an ISO date (2026-11-01) or datetime (2026-11-01T10:00, 2026-11-01T10:00:00Z, 2026-11-01T10:00:00+01:00)."];
        return null;
    }

    private static bool TryParseTime(Group group, out TimeOnly time)
    {
        time = TimeOnly.MinValue;
        return !group.Success || TimeOnly.TryParseExact(group.Value, ["HH:mm", "HH:mm:ss", "HH:mm:ss.FFFFFFF"],
            CultureInfo.InvariantCulture, DateTimeStyles.None, out time);
    }

    private static bool TryParseOffset(Group group, out TimeSpan? offset)
    {
        offset = null;
        if (!group.Success)
        {
            return true;
        }

        var text = group.Value;
        if (text is "Z" or "z")
        {
            offset = TimeSpan.Zero;
            return true;
        }

        // An unescaped '+' in a query string arrives as a space: "10:00:00 01:00" meant "10:00:00+01:00".
        var sign = text[0] == '-' ? -1 : 1;
        var digits = text[1..].Replace(":", "", StringComparison.Ordinal);
        var hours = int.Parse(digits[..2], CultureInfo.InvariantCulture);
        var minutes = int.Parse(digits[2..], CultureInfo.InvariantCulture);
        if (minutes >= 60 || hours * 60 + minutes > 14 * 60)
        {
            return false;
        }

        offset = sign * new TimeSpan(hours, minutes, 0);
        return true;
    }

    private static DateTimeOffset FloorToSecond(DateTimeOffset instant) =>
        instant.AddTicks(-(instant.Ticks % TimeSpan.TicksPerSecond));

    [GeneratedRegex(@"^(?<date>[0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ](?<time>[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,7})?)?)(?<offset>[Zz]|[+\- ][0-9]{2}:?[0-9]{2})?)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDateTime();
}
