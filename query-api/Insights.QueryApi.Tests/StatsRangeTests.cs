using Insights.QueryApi.Stats;

namespace Insights.QueryApi.Tests;

/// <summary>How request parameters become a range in the site's time zone (pure logic, no ClickHouse).</summary>
public sealed class StatsRangeTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private static readonly DateTimeOffset Now = new(2026, 4, 2, 10, 0, 0, TimeSpan.Zero);

    private static StatsRange Parse(string? from, string? to, string? interval = null, string? limit = null, TimeZoneInfo? zone = null)
    {
        Assert.True(StatsRange.TryCreate(from, to, interval, limit, zone ?? Berlin, Now, new QueryApiOptions(), out var range, out var errors),
            string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value[0]}")));
        return range;
    }

    private static Dictionary<string, string[]> Errors(string? from, string? to, string? interval = null, string? limit = null)
    {
        Assert.False(StatsRange.TryCreate(from, to, interval, limit, Berlin, Now, new QueryApiOptions(), out _, out var errors));
        return errors;
    }

    [Fact]
    public void A_date_is_midnight_in_the_sites_zone()
    {
        var range = Parse("2026-03-28", "2026-03-30");

        Assert.Equal(new DateTimeOffset(2026, 3, 27, 23, 0, 0, TimeSpan.Zero), range.From.ToUniversalTime());
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 22, 0, 0, TimeSpan.Zero), range.To.ToUniversalTime()); // after the spring change
        Assert.Equal(TimeSpan.FromHours(2), range.To.Offset);
    }

    [Theory]
    [InlineData("2026-05-01T10:00", "2026-05-01T08:00:00Z")]
    [InlineData("2026-05-01T10:00:30", "2026-05-01T08:00:30Z")]
    [InlineData("2026-05-01 10:00", "2026-05-01T08:00:00Z")]
    [InlineData("2026-05-01T10:00:00Z", "2026-05-01T10:00:00Z")]
    [InlineData("2026-05-01T10:00:00+05:30", "2026-05-01T04:30:00Z")]
    [InlineData("2026-05-01T10:00:00-0300", "2026-05-01T13:00:00Z")]
    [InlineData("2026-05-01T10:00:00 02:00", "2026-05-01T08:00:00Z")] // '+' arrived as a space
    [InlineData("2026-05-01T10:00:00.999Z", "2026-05-01T10:00:00Z")] // floored to the second
    [InlineData("2026-03-29T02:30", "2026-03-29T01:30:00Z")]          // skipped by the spring jump: 03:30 CEST
    [InlineData("2026-10-25T02:30", "2026-10-25T00:30:00Z")]          // happens twice: the first one
    public void Datetimes_without_an_offset_are_wall_time_in_the_sites_zone(string from, string expectedUtc)
    {
        var range = Parse(from, "2026-12-01");

        Assert.Equal(DateTimeOffset.Parse(expectedUtc, System.Globalization.CultureInfo.InvariantCulture), range.From);
    }

    [Fact]
    public void The_default_is_the_last_seven_calendar_days_including_today()
    {
        var range = Parse(null, null);

        Assert.Equal(new DateTimeOffset(2026, 4, 3, 0, 0, 0, TimeSpan.FromHours(2)), range.To);
        Assert.Equal(new DateTimeOffset(2026, 3, 27, 0, 0, 0, TimeSpan.FromHours(1)), range.From); // before the jump: +01:00
        Assert.Equal((StatsInterval.Day, 10), (range.Interval, range.Limit));
    }

    [Fact]
    public void A_missing_bound_is_filled_from_the_other()
    {
        Assert.Equal(new DateTimeOffset(2026, 1, 3, 0, 0, 0, TimeSpan.FromHours(1)), Parse(null, "2026-01-10").From);
        Assert.Equal(new DateTimeOffset(2026, 4, 3, 0, 0, 0, TimeSpan.FromHours(2)), Parse("2026-03-01", null).To);
    }

    [Fact]
    public void Range_limits_are_counted_in_calendar_days()
    {
        Assert.Equal(StatsInterval.Day, Parse("2025-03-01", "2026-04-05").Interval);                // 400 days, across two DST changes
        Assert.Contains("from", Errors("2025-03-01", "2026-04-06").Keys);                           // 401
        Assert.Equal(StatsInterval.Hour, Parse("2026-03-01", "2026-04-01", "hour").Interval);       // 31 days
        Assert.Equal(["interval"], Errors("2026-03-01", "2026-04-02", "HOUR").Keys);                // 32
    }

    [Fact]
    public void Every_invalid_parameter_is_named_at_once()
    {
        var errors = Errors("yesterday", "2026-02-30", "minute", "0");

        Assert.Equal(["from", "interval", "limit", "to"], errors.Keys.Order());
    }

    [Fact]
    public void From_must_be_before_to()
    {
        Assert.Equal(["from"], Errors("2026-05-01T10:00:00Z", "2026-05-01T10:00:00.5Z").Keys); // equal once floored
        Assert.Equal(["from"], Errors("2026-05-02", "2026-05-01").Keys);
        Assert.Equal(["from"], Errors("2026-05-01", null).Keys); // from after the default 'to'
    }

    [Theory]
    [InlineData(null, 10)]
    [InlineData("", 10)]
    [InlineData("1", 1)]
    [InlineData("100", 100)]
    public void Limit_defaults_to_ten_and_goes_up_to_a_hundred(string? limit, int expected) =>
        Assert.Equal(expected, Parse("2026-05-01", "2026-05-02", limit: limit).Limit);

    [Fact]
    public void Wall_times_convert_in_zones_with_half_hour_offsets_and_no_dst()
    {
        var kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");

        var range = Parse("2026-05-01", "2026-05-02", zone: kolkata);

        Assert.Equal(new DateTimeOffset(2026, 4, 30, 18, 30, 0, TimeSpan.Zero), range.From);
        Assert.Equal(TimeSpan.FromMinutes(330), range.From.Offset);
    }
}
