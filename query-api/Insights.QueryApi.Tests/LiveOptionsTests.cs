using Insights.QueryApi.Live;
using Microsoft.Extensions.Configuration;

namespace Insights.QueryApi.Tests;

/// <summary>Which fetch wait the presence consumer asks the broker for.</summary>
public sealed class LiveOptionsTests
{
    [Theory]
    [InlineData(null, null, 500)] // Kafka's own default
    [InlineData(null, "50", 50)] // the system's Kafka:FetchWaitMaxMs, as scripts/run.sh sets it for the dev stack
    [InlineData(200, "50", 200)] // the Live section's own value wins
    [InlineData(0, "50", 0)] // 0 is a value (answer at once), not "unset"
    [InlineData(null, "abc", null)] // not a number: start-up refuses it (StartupValidationTests)
    [InlineData(null, "-5", null)]
    [InlineData(null, "60001", null)]
    public void The_fetch_wait_is_the_live_sections_else_the_systems_else_kafkas_default(int? live, string? kafka, int? expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(kafka is null ? [] : [new("Kafka:FetchWaitMaxMs", kafka)])
            .Build();

        Assert.Equal(expected, new LiveOptions { FetchWaitMaxMs = live }.FetchWait(configuration));
    }
}
