using System.Net;
using Insights.DevStack.Testing;
using Insights.Ingest.Parsing;

namespace Insights.Ingest.Tests.Integration;

/// <summary>
/// The delivery promise under an outage: never 202 while Kafka cannot acknowledge, 503 with Retry-After instead,
/// and 202 again once it can. Runs on a private dev stack: taking its broker down must not disturb other tests.
/// </summary>
public sealed class BrokerOutageTests
{
    [Fact]
    public async Task While_the_broker_is_down_requests_get_503_with_retry_after_and_202_once_it_is_back()
    {
        var work = Directory.CreateTempSubdirectory("insights-ingest-outage-").FullName;
        await using var stack = DevStackProcess.Start(Path.Combine(work, "clickhouse"), Path.Combine(work, "devstack.env"));
        try
        {
            var addresses = await stack.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
            var bootstrap = addresses["INSIGHTS_KAFKA_BOOTSTRAP"];
            using var faults = new HttpClient { BaseAddress = new Uri(addresses["INSIGHTS_CLICKHOUSE_URL"]) };
            await using var host = IngestHost.Start(bootstrap, new Dictionary<string, string?> { ["Kafka:DeliveryTimeout"] = "00:00:02" });

            var before = await PostUntilAcceptedAsync(host, "before");

            await SetBrokerAsync(faults, up: false);
            var during = await host.PostAsync(Event("during"));
            await Answer.ProblemAsync(during, 503, RejectReasons.KafkaUnavailable);
            Assert.Equal("5", Assert.Single(during.Headers.GetValues("Retry-After")));
            var ready = await host.Client.GetAsync("/readyz", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);

            await SetBrokerAsync(faults, up: true);
            var after = await PostUntilAcceptedAsync(host, "after");

            // Everything answered 202 is on Kafka (what was answered 503 may or may not be: the client retries it).
            var stored = KafkaReader.ReadToEnd(bootstrap, host.Topic, 2).Select(m => m.Event.EventId).ToHashSet();
            // A write key's events carry its namespace: the messageId "x" is stored as "pub:x".
            Assert.Contains("pub:" + before, stored);
            Assert.Contains("pub:" + after, stored);
        }
        finally
        {
            await stack.StopAsync(TimeSpan.FromSeconds(20));
            Directory.Delete(work, recursive: true);
        }
    }

    private static string Event(string messageId) => $$"""{"type":"track","event":"x","anonymousId":"v","messageId":"{{messageId}}"}""";

    // Until the producer has (re)connected, deliveries time out and are answered 503, as a real client would see;
    // each retry uses a new messageId so the test knows exactly which ones were promised.
    private static async Task<string> PostUntilAcceptedAsync(IngestHost host, string prefix)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        for (var attempt = 1; ; attempt++)
        {
            var id = $"{prefix}-{attempt}";
            var response = await host.PostAsync(Event(id));
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                return id;
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(DateTime.UtcNow < deadline, $"No '{prefix}' request was accepted within 60 s.");
        }
    }

    private static async Task SetBrokerAsync(HttpClient faults, bool up)
    {
        using var response = await faults.PostAsync(new Uri($"/_devstack/kafka/brokers/1/{(up ? "up" : "down")}", UriKind.Relative), null,
            TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }
}
