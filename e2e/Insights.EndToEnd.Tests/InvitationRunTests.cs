using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Insights.DevStack.Testing;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// Invitation rules as a new install meets them, through <c>scripts/run.sh</c>: a partner admin sets a site's rules over
/// HTTP, a visitor's page views go to ingest, and the agents' stream shows the rule's suggestion and the auto-invitation,
/// which the funnel then counts as sent (recorded through Kafka and stored by the processors).
/// </summary>
public sealed class InvitationRunTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Rules_set_through_the_api_suggest_and_invite_a_visitor_sending_page_views_and_the_funnel_counts_the_invitation()
    {
        await using var system = await RunningSystem.StartAsync("invitations");
        var (ingest, query, environment) = (system.Ingest, system.Query, system.Environment);

        using var provisioned = await RunAccounts.ProvisionAsync(environment, query, ClientPlan.Baeckerei);
        var (agency, writeKey, readKey) = (provisioned.Agency, provisioned.WriteKey, provisioned.ReadKey);

        // The rules: a suggestion for anyone reading the docs, an auto-invitation on the pricing page.
        await agency.JsonAsync(HttpMethod.Put, "/v1/sites/baeckerei/invitation-rules", new object[]
        {
            new { id = "docs", name = "Reads the docs", action = "suggest", when = new { kind = "visited_url", pattern = "/docs/*" } },
            new
            {
                id = "pricing", name = "Pricing", action = "auto_invite", message = "Fragen zum Preis? 🥨",
                when = new { all = new object[] { new { kind = "current_url", pattern = "/preise" }, new { kind = "pages_viewed", min = 2 } } },
            },
        });

        using var http = new HttpClient { BaseAddress = query, Timeout = Timeout.InfiniteTimeSpan };
        using var stream = await OpenStreamAsync(http, readKey);
        var visitor = $"inv-{Guid.NewGuid():N}";
        await EventuallySentAsync(ingest, writeKey, visitor, "/docs/start");
        var suggested = await NextForAsync(stream, visitor, "invitation_suggested");
        Assert.Equal(("docs", "visited /docs/*"), (suggested.GetProperty("rule").GetString(), suggested.GetProperty("reason").GetString()));

        await SendAsync(ingest, writeKey, visitor, "/preise");
        var sent = await NextForAsync(stream, visitor, "invitation_sent");
        Assert.Equal(("pricing", "Fragen zum Preis? 🥨", "invited"),
            (sent.GetProperty("rule").GetString(), sent.GetProperty("message").GetString(), sent.GetProperty("chatState").GetString()));
        var invitation = sent.GetProperty("invitationId").GetString();
        output.WriteLine($"invitation {invitation} sent");

        // Recorded through Kafka and stored by the processors: the funnel counts it once.
        await WaitForFunnelAsync(http, readKey, TimeSpan.FromSeconds(90), "the invitation",
            rules => rules.Single(r => r.GetProperty("rule").GetString() == "pricing").GetProperty("sent").GetInt64() == 1);
    }

    /// <summary>Polls the site's invitation funnel (its rows per rule) until <paramref name="counted"/> holds.</summary>
    internal static async Task WaitForFunnelAsync(HttpClient http, string readKey, TimeSpan timeout, string what,
        Func<List<JsonElement>, bool> counted)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/sites/baeckerei/invitations/funnel");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", readKey);
            using var response = await http.SendAsync(request, Ct);
            var body = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            if (counted(JsonDocument.Parse(body).RootElement.GetProperty("rules").EnumerateArray().ToList()))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the funnel does not count {what}: {body}");
            await Task.Delay(500, Ct);
        }
    }

    internal static async Task<StreamReader> OpenStreamAsync(HttpClient http, string readKey)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/v1/sites/baeckerei/live/stream");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", readKey);
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return new StreamReader(await response.Content.ReadAsStreamAsync(Ct), Encoding.UTF8);
            }

            // 503 while presence starts, 401 until the query API's catalog has the new site's key.
            Assert.True(DateTime.UtcNow < deadline, $"the stream answers {(int)response.StatusCode}");
            response.Dispose();
            await Task.Delay(250, Ct);
        }
    }

    // Ingest takes the new site's write key within its catalog refresh.
    internal static async Task EventuallySentAsync(Uri ingest, string key, string visitor, string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await TrySendAsync(ingest, key, visitor, path) != HttpStatusCode.Accepted)
        {
            Assert.True(DateTime.UtcNow < deadline, "ingest does not take the new site's write key");
            await Task.Delay(250, Ct);
        }
    }

    private static async Task SendAsync(Uri ingest, string key, string visitor, string path) =>
        Assert.Equal(HttpStatusCode.Accepted, await TrySendAsync(ingest, key, visitor, path));

    private static async Task<HttpStatusCode> TrySendAsync(Uri ingest, string key, string visitor, string path)
    {
        using var http = new HttpClient { BaseAddress = ingest };
        var body = JsonSerializer.Serialize(new
        {
            type = "pageview",
            messageId = Guid.NewGuid().ToString(),
            anonymousId = visitor,
            context = new { page = new { url = $"https://baeckerei.example{path}", path, title = "Bäckerei" } },
        });
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        message.Headers.Add("X-Insights-Key", key);
        using var response = await http.SendAsync(message, Ct);
        return response.StatusCode;
    }

    // The data of the next stream event of this name about this visitor; everything else skipped.
    internal static async Task<JsonElement> NextForAsync(StreamReader reader, string visitor, string eventName)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var (name, data) = ("", new StringBuilder());
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0 && name == eventName)
                {
                    var json = JsonDocument.Parse(data.ToString()).RootElement.Clone();
                    if (json.TryGetProperty("visitorId", out var who) && who.GetString() == visitor)
                    {
                        return json;
                    }
                }

                (name, data) = ("", data.Clear());
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Append(line[6..]);
            }
        }

        throw new InvalidOperationException("the stream ended");
    }
}
