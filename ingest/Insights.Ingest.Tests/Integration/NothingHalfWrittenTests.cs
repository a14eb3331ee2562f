using System.Text;
using Insights.DevStack.Testing;

namespace Insights.Ingest.Tests.Integration;

public sealed class NothingHalfWrittenTests(DevStackFixture stack)
{
    [Fact]
    public async Task Refused_requests_put_nothing_on_kafka()
    {
        await using var host = IngestHost.Start(stack.KafkaBootstrap);
        const string valid = """{"type":"track","event":"refused","anonymousId":"v"}""";

        // Each of these holds a valid event next to what gets the request refused.
        Assert.Equal(400, (int)(await host.PostAsync($"[{valid},{{\"type\":")).StatusCode);
        Assert.Equal(400, (int)(await host.PostAsync($"[{valid},{valid}]]")).StatusCode);
        Assert.Equal(400, (int)(await host.PostAsync([.. Encoding.UTF8.GetBytes($"[{valid},\""), 0xC0, .. "\"]"u8])).StatusCode);
        Assert.Equal(400, (int)(await host.PostAsync("[" + string.Join(',', Enumerable.Repeat(valid, 501)) + "]")).StatusCode);
        Assert.Equal(413, (int)(await host.PostAsync("[" + string.Join(',', Enumerable.Repeat(valid, 11_000)) + "]")).StatusCode);
        Assert.Equal(401, (int)(await host.PostAsync($"[{valid}]", key: "unknown-key-123")).StatusCode);
        Assert.Equal(403, (int)(await host.PostAsync($"[{valid}]", key: IngestHost.ReadKey)).StatusCode);

        const string marker = """[{"type":"track","event":"marker","anonymousId":"v","messageId":"marker"}]""";
        Assert.Equal(202, (int)(await host.PostAsync(marker)).StatusCode);

        var messages = KafkaReader.ReadToEnd(host.KafkaBootstrap, host.Topic, 1);
        Assert.Equal("pub:marker", Assert.Single(messages).Event.EventId);
    }
}
