using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Insights.ControlPlane.Model;
using Insights.Contracts;
using Insights.ControlPlane.Tests.Support;
using Insights.QueryApi.Live;
using Insights.QueryApi.Live.Alerts;
using Insights.QueryApi.Tests.Support;
using static Insights.QueryApi.Tests.Support.AlertInstances;

namespace Insights.QueryApi.Tests;

/// <summary>
/// Alerts from presence to a real receiver: two query-API instances sharing one control-plane store each see the same
/// visitor, and the receiver gets one signed webhook and one Slack message per visit; failing receivers are retried,
/// dead-lettered and re-delivered on request; destinations on private addresses are refused at connection time.
/// </summary>
public sealed class AlertDeliveryTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    [Fact]
    public Task Two_instances_on_one_SQLite_store_deliver_each_alert_once_signed_and_to_Slack() => OncePerVisitAsync(SqliteStore());

    [Fact]
    public async Task Two_instances_on_one_PostgreSQL_store_deliver_each_alert_once_signed_and_to_Slack() =>
        await OncePerVisitAsync(PostgresStore(await postgres.CreateDatabaseAsync()));

    private static async Task OncePerVisitAsync(Dictionary<string, string?> store)
    {
        await using var receiver = await AlertReceiver.StartAsync();
        await using var instances = Start(2, store, [TargetRule(Webhook(receiver.Url("/hook")), Slack(receiver.Url("/slack")))]);

        instances.ApplyEverywhere(View("v1", "s1", "/pricing", "e1"));
        instances.ApplyEverywhere(View("v1", "s1", "/docs", "e2"));
        instances.ApplyEverywhere(View("stranger", "s9", "/pricing", "e3", new LiveCompany("other-1", "Other", "other.example")));

        var received = await receiver.WaitForAsync(2);
        var deliveries = await instances.WaitForDeliveriesAsync(rows => rows.Count == 2 && rows.All(r => r.Status == AlertDeliveryStatus.Delivered));
        await Task.Delay(1000, Http.Ct); // long enough for a second instance's delivery, were there one
        // One alert per destination: one row each in the store, and one alert id at each receiver (a retry after a lost
        // answer would repeat the id, never add another).
        Assert.Equal(["hook", "slack"], deliveries.Select(d => d.DestinationId).Order());
        Assert.Single(deliveries.Select(d => d.AlertId).Distinct());
        Assert.Equal(2, receiver.Received.Select(r => (r.Path, r.Header("X-Insights-Alert"))).Distinct().Count());
        received = [.. receiver.Received.DistinctBy(r => r.Path)];

        var hook = Assert.Single(received, r => r.Path == "/hook");
        Assert.True(AlertSignature.Verify(hook.Header(AlertSignature.Header), Secret, hook.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)),
            $"bad signature {hook.Header(AlertSignature.Header)}");
        Assert.False(AlertSignature.Verify(hook.Header(AlertSignature.Header), "iws_another-secret-of-the-same-len", hook.Body, DateTimeOffset.UtcNow,
            TimeSpan.FromMinutes(5)));
        var alert = JsonDocument.Parse(hook.Body).RootElement;
        Assert.Equal("alert", alert.GetProperty("type").GetString());
        Assert.Equal(AlertPayload.IdOf(SiteId, "target", "s1"), alert.GetProperty("id").GetString());
        Assert.Equal(alert.GetProperty("id").GetString(), hook.Header("X-Insights-Alert"));
        Assert.Equal("target", alert.GetProperty("rule").GetProperty("id").GetString());
        Assert.Equal("v1", alert.GetProperty("visitor").GetProperty("visitorId").GetString());
        Assert.Equal("eu.acme.example", alert.GetProperty("visitor").GetProperty("company").GetProperty("domain").GetString());
        Assert.Equal("Préise — 価格", alert.GetProperty("visitor").GetProperty("page").GetProperty("title").GetString());

        var slack = JsonDocument.Parse(Assert.Single(received, r => r.Path == "/slack").Body).RootElement;
        Assert.Null(Assert.Single(received, r => r.Path == "/slack").Header(AlertSignature.Header));
        Assert.Contains("Target account on site", slack.GetProperty("text").GetString(), StringComparison.Ordinal);
        var section = slack.GetProperty("blocks")[0];
        Assert.Equal("section", section.GetProperty("type").GetString());
        // Visitor-controlled text cannot make Slack links or mentions.
        Assert.Contains("Acme &lt;Corp&gt; &amp; Co", section.GetProperty("text").GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal("context", slack.GetProperty("blocks")[1].GetProperty("type").GetString());

        // Each instance shows the alert on its own stream, once.
        for (var i = 0; i < 2; i++)
        {
            var alerts = Changes(instances.Board(i)).Where(c => c.Event == AlertPayload.EventName).ToList();
            Assert.Equal("v1", JsonDocument.Parse(Assert.Single(alerts).Data).RootElement.GetProperty("visitor").GetProperty("visitorId").GetString());
        }

        // A new visit of the same visitor is another alert.
        instances.ApplyEverywhere(View("v1", "s2", "/pricing", "e4"));
        await receiver.WaitForAsync(4);
        await instances.WaitForDeliveriesAsync(rows => rows.Count == 4 && rows.All(r => r.Status == AlertDeliveryStatus.Delivered));
        await Task.Delay(500, Http.Ct);
        Assert.Equal(4, receiver.Received.Select(r => (r.Path, r.Header("X-Insights-Alert"))).Distinct().Count());
        Assert.Equal(4, (await instances.DeliveriesAsync()).Count);
    }

    [Fact]
    public async Task A_receiver_answering_500_is_retried_with_back_off_dead_lettered_and_redelivered_after_a_retry()
    {
        await using var receiver = await AlertReceiver.StartAsync();
        receiver.Answers["/hook"] = (500, TimeSpan.Zero);
        await using var instances = Start(1, SqliteStore(), [TargetRule(Webhook(receiver.Url("/hook")))]);

        instances.ApplyEverywhere(View("v1", "s1", "/pricing", "e1"));

        var dead = Assert.Single(await instances.WaitForDeliveriesAsync(rows => rows.Count == 1 && rows[0].Status == AlertDeliveryStatus.Dead));
        var attempts = receiver.Received.ToList();
        Assert.Equal(["1", "2", "3"], attempts.Select(a => a.Header("X-Insights-Attempt")));
        Assert.Equal(3, dead.Attempts);
        Assert.Equal(500, dead.LastStatusCode);
        Assert.StartsWith("HTTP 500: receiver says no", dead.LastError, StringComparison.Ordinal);
        Assert.True(dead.LastError!.Length <= 500);
        // Every attempt is the same alert, so a receiver that did process one can drop the repeats.
        Assert.Single(attempts.Select(a => a.Header("X-Insights-Alert")).Distinct());

        receiver.Answers["/hook"] = (204, TimeSpan.Zero);
        var (row, requeued) = await instances.Outbox.RequeueAsync(SiteId, dead.Id, Http.Ct);
        Assert.True(requeued);
        Assert.Equal(dead.Id, row!.Id);
        var delivered = Assert.Single(await instances.WaitForDeliveriesAsync(rows => rows[0].Status == AlertDeliveryStatus.Delivered));
        Assert.Equal(204, delivered.LastStatusCode);
        Assert.Null(delivered.LastError);
        Assert.Equal(4, receiver.Received.Count);

        // Only a dead delivery goes back; another site's id is no delivery at all.
        Assert.False((await instances.Outbox.RequeueAsync(SiteId, dead.Id, Http.Ct)).Requeued);
        Assert.Null((await instances.Outbox.RequeueAsync("other", dead.Id, Http.Ct)).Delivery);
    }

    [Fact]
    public async Task A_receiver_that_never_answers_and_one_that_refuses_connections_are_dead_lettered_with_the_reason()
    {
        await using var receiver = await AlertReceiver.StartAsync();
        receiver.Answers["/slow"] = (200, TimeSpan.FromSeconds(30));
        var closed = ClosedPort();
        await using var instances = Start(1, SqliteStore(),
            [TargetRule(Webhook(receiver.Url("/slow"), "slow"), Webhook($"http://127.0.0.1:{closed}/hook", "refused"))],
            new() { ["Alerts:Timeout"] = "00:00:01" });

        instances.ApplyEverywhere(View("v1", "s1", "/pricing", "e1"));

        var rows = await instances.WaitForDeliveriesAsync(rows => rows.Count == 2 && rows.All(r => r.Status == AlertDeliveryStatus.Dead), seconds: 30);
        var slow = rows.Single(r => r.DestinationId == "slow");
        Assert.StartsWith("timeout:", slow.LastError, StringComparison.Ordinal);
        Assert.Null(slow.LastStatusCode);
        Assert.Equal(3, receiver.Received.Count);
        Assert.StartsWith("connection:", rows.Single(r => r.DestinationId == "refused").LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_AllowPrivateAddresses_a_destination_on_loopback_is_refused_when_connecting_and_gets_nothing()
    {
        await using var receiver = await AlertReceiver.StartAsync();
        var port = receiver.Address.Port;
        // Seeded settings skip the API's check; the connection step must still refuse (as it must after a DNS change).
        await using var instances = Start(1, SqliteStore(),
            [TargetRule(Webhook($"https://127.0.0.1:{port}/hook", "ip"), Webhook($"https://localhost:{port}/hook", "name"),
                Webhook($"http://127.0.0.1:{port}/hook", "plain"))],
            new() { ["Alerts:AllowPrivateAddresses"] = "false", ["Alerts:MaxAttempts"] = "1" });

        instances.ApplyEverywhere(View("v1", "s1", "/pricing", "e1"));

        var rows = await instances.WaitForDeliveriesAsync(rows => rows.Count == 3 && rows.All(r => r.Status == AlertDeliveryStatus.Dead));
        Assert.All(rows, r => Assert.StartsWith("blocked_address", r.LastError, StringComparison.Ordinal));
        Assert.Empty(receiver.Received);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static List<LiveChange> Changes(PresenceBoard board)
    {
        var site = board.Site(SiteId);
        return [.. site.Read(board.FirstId - 1, int.MaxValue).Changes ?? []];
    }
}
