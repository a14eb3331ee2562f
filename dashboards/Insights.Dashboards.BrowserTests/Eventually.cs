using System.Text.Json;

namespace Insights.Dashboards.BrowserTests;

internal static class Eventually
{
    /// <summary>Polls <paramref name="probe"/> until it returns a value (events take a moment through Kafka, the processors and ClickHouse).</summary>
    public static async Task<JsonElement> ElementAsync(Func<Task<JsonElement?>> probe, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(500, TestContext.Current.CancellationToken);
        }
    }
}
