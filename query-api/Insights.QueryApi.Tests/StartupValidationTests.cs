using Insights.QueryApi.Tests.Support;

namespace Insights.QueryApi.Tests;

/// <summary>
/// A setting the API cannot work with stops it at start-up with a message naming the key. Run as operators run it, a
/// process with settings in its environment: an in-memory host that fails to start races its own disposal (the entry
/// point disposes the services while the factory still reads them), which sometimes hid the message behind an
/// ObjectDisposedException.
/// </summary>
public sealed class StartupValidationTests
{
    private const string Cs = "Host=127.0.0.1;Port=1;Username=default;Password=";

    [Theory]
    [InlineData("QueryApi:MaxLimit", "0", "QueryApi:MaxLimit")]
    [InlineData("QueryApi:DefaultLimit", "500", "QueryApi:DefaultLimit")]
    [InlineData("QueryApi:MaxHourlyRangeDays", "401", "QueryApi:MaxHourlyRangeDays")]
    [InlineData("ClickHouse:Database", "x; DROP DATABASE y", "ClickHouse:Database")]
    [InlineData("Sites:0:TimeZone", "Mars/Olympus_Mons", "Sites:0:TimeZone")]
    [InlineData("Sites:1:Id", "Not A Valid Id", "Sites:1:Id")]
    [InlineData("Sites:1:ReadKeys:0", TestSites.ShopRead, "used twice")]
    [InlineData("Alerts:MaxRetryDelay", "00:00:01", "Alerts:MaxRetryDelay")]
    [InlineData("Alerts:MaxAttempts", "0", "Alerts:MaxAttempts")]
    [InlineData("Sites:0:Alerts:0:Kind", "everything", "Sites:0:Alerts:0:Kind")]
    [InlineData("Live:FetchWaitMaxMs", "70000", "Live:FetchWaitMaxMs")]
    [InlineData("Kafka:FetchWaitMaxMs", "abc", "Kafka:FetchWaitMaxMs")]
    [InlineData("Kafka:FetchWaitMaxMs", "-5", "Kafka:FetchWaitMaxMs")]
    public async Task A_bad_setting_stops_the_start_naming_it(string key, string value, string expected)
    {
        var settings = TestSites.Settings(Cs, "insights");
        settings[key] = value;

        var (exit, output) = await QueryApiProcess.RunUntilExitAsync(settings);

        Assert.NotEqual(0, exit);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_control_plane_refresh_slower_than_the_revocation_promise_stops_the_start()
    {
        var settings = TestSites.Settings(Cs, "insights");
        settings["ControlPlane:RefreshInterval"] = "00:00:30";

        var (exit, output) = await QueryApiProcess.RunUntilExitAsync(settings);

        Assert.NotEqual(0, exit);
        Assert.Contains("ControlPlane:RefreshInterval", output, StringComparison.Ordinal);
    }
}
