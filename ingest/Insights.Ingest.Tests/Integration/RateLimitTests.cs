using Insights.DevStack.Testing;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Tests.Integration;

public sealed class RateLimitTests(DevStackFixture stack)
{
    [Fact]
    public async Task A_site_over_its_rate_gets_429_with_retry_after_and_other_sites_do_not()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap, new Dictionary<string, string?>
        {
            ["Sites:1:Id"] = "limited",
            ["Sites:1:WriteKeys:0"] = "limited-write-key",
            ["Sites:1:RateLimitPerSecond"] = "2",
        });
        var batch = "[" + string.Join(',', Enumerable.Range(0, 10).Select(i => $$"""{"type":"track","event":"x","anonymousId":"v","messageId":"m{{i}}"}""")) + "]";

        // A full bucket admits one batch even beyond its size; the debt (8 events at 2/s) then takes seconds to pay.
        await Answer.AcceptedAsync(await host.PostAsync(batch, key: "limited-write-key"), 10);
        var limited = await host.PostAsync(batch, key: "limited-write-key");

        await Answer.ProblemAsync(limited, 429, RejectReasons.RateLimited);
        var retryAfter = int.Parse(Assert.Single(limited.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 6);

        await Answer.AcceptedAsync(await host.PostAsync(batch), 10);
        // The refused batch never reached Kafka: the first batch and the other site's.
        Assert.Equal(20, KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 20).Count);
    }
}
