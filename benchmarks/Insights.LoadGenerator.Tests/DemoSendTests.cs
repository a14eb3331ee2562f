using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Insights.LoadGenerator.Tests;

/// <summary>
/// The demo's sends over real HTTP to a stand-in for ingest's answers (<see cref="StandIn"/>): a site provisioned a moment ago is not known to
/// ingest until its next read of the site store, and the demo's history for it must not be lost meanwhile.
/// </summary>
public sealed class DemoSendTests
{
    [Fact]
    public async Task A_key_ingest_does_not_know_yet_is_sent_again_until_it_is()
    {
        var calls = 0;
        await using var ingest = await StartAsync(() => ++calls <= 2
            ? Results.Json(new { reason = "unknown_key" }, statusCode: StatusCodes.Status401Unauthorized)
            : Results.Json(new { accepted = 2 }, statusCode: StatusCodes.Status202Accepted));

        var accepted = await DemoTraffic.SendAsync(ingest.Client, Batch(), TestContext.Current.CancellationToken);

        Assert.Equal((2, 3), (accepted, calls));
    }

    [Fact]
    public async Task A_key_that_stays_unknown_or_another_refusal_is_given_up()
    {
        var calls = 0;
        await using (var ingest = await StartAsync(() =>
        {
            calls++;
            return Results.Json(new { reason = "unknown_key" }, statusCode: StatusCodes.Status401Unauthorized);
        }))
        {
            Assert.Equal(0, await DemoTraffic.SendAsync(ingest.Client, Batch(), TestContext.Current.CancellationToken, TimeSpan.FromSeconds(1)));
            Assert.InRange(calls, 2, 10);
        }

        calls = 0;
        await using (var ingest = await StartAsync(() =>
        {
            calls++;
            return Results.Json(new { reason = "key_cannot_write" }, statusCode: StatusCodes.Status401Unauthorized);
        }))
        {
            Assert.Equal(0, await DemoTraffic.SendAsync(ingest.Client, Batch(), TestContext.Current.CancellationToken));
            Assert.Equal(1, calls);
        }
    }

    private static DemoTraffic.EventBatch Batch()
    {
        var batch = new DemoTraffic.EventBatch();
        batch.Add("""{"type":"page","messageId":"m1"}""");
        batch.Add("""{"type":"page","messageId":"m2"}""");
        return batch;
    }

    private static async Task<Ingest> StartAsync(Func<IResult> answer)
    {
        var server = await StandIn.StartAsync(app => app.MapPost("/v1/events", answer));
        return new Ingest(server, new HttpClient { BaseAddress = server.Address });
    }

    private sealed record Ingest(StandIn Server, HttpClient Client) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Server.DisposeAsync();
        }
    }
}
