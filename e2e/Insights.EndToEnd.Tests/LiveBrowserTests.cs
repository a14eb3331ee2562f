using Microsoft.Playwright;

namespace Insights.EndToEnd.Tests;

/// <summary>
/// Two browsers against the three processes: a visitor on a page with <c>t.js</c>, and an agent's page reading the live
/// stream with <c>fetch</c> streaming (the way a browser sends the key in a header; EventSource cannot). The visitor
/// appears on the agent's page, and a page change follows.
/// </summary>
public sealed class LiveBrowserTests(SystemFixture system)
{
    // Debian's Chromium, as the tracker's browser tests launch it (docs: DESIGN.md, "Browser tests").
    private static readonly BrowserTypeLaunchOptions Launch = new()
    {
        ExecutablePath = "/usr/bin/chromium",
        Headless = true,
        Args = ["--disable-gpu", "--disable-quic", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--no-sandbox"],
    };

    // Headless Chromium says "HeadlessChrome", which the processors rightly drop as a bot: the visitor presents as a person's Chrome.
    private const string PersonsChrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

    private const string AgentPage = """
        <!doctype html><html><head><meta charset="utf-8"><title>Agent</title></head><body><ul id="log"></ul><script>
        (async () => {
          const log = document.getElementById('log');
          const response = await fetch('/v1/sites/demo/live/stream', { headers: { Authorization: 'Bearer READ_KEY' } });
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value;
            let end;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, end); buffer = buffer.slice(end + 2);
              const event = (block.match(/^event: (.*)$/m) || [])[1];
              const data = (block.match(/^data: (.*)$/m) || [])[1];
              if (!event || !data) continue;
              const body = JSON.parse(data);
              const item = document.createElement('li');
              item.textContent = event + ' ' + (body.visitorId || '') + ' ' + ((body.page && body.page.path) || '');
              log.appendChild(item);
            }
          }
        })();
        </script></body></html>
        """;

    [Fact]
    public async Task An_agent_page_sees_a_visitor_with_t_js_arrive_and_change_pages()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(Launch);
        var ingest = system.Ingest.Address.ToString().TrimEnd('/');
        var query = system.QueryApi.Address.ToString().TrimEnd('/');

        await using var agentContext = await browser.NewContextAsync();
        var agent = await agentContext.NewPageAsync();
        await agent.RouteAsync(query + "/agent", route => route.FulfillAsync(new RouteFulfillOptions
        {
            ContentType = "text/html", Body = AgentPage.Replace("READ_KEY", SystemFixture.ReadKey, StringComparison.Ordinal),
        }));
        // Presence may still be rebuilding (503 live_starting): the page is reloaded until its stream is open.
        await Eventually(async () =>
        {
            await agent.GotoAsync(query + "/agent");
            await Task.Delay(500, TestContext.Current.CancellationToken);
            return await agent.Locator("#log li").CountAsync() > 0;
        });

        await using var visitorContext = await browser.NewContextAsync(new BrowserNewContextOptions { UserAgent = PersonsChrome });
        var visitor = await visitorContext.NewPageAsync();
        visitor.Response += (_, r) =>
        {
            if (r.Url.Contains("/v1/", StringComparison.Ordinal))
            {
                lock (trackerPosts)
                {
                    trackerPosts.Add($"{r.Request.Method} {r.Url} → {r.Status}");
                }
            }
        };
        foreach (var path in (string[])["/visitor/pricing", "/visitor/contact"])
        {
            await visitor.RouteAsync(ingest + path, route => route.FulfillAsync(new RouteFulfillOptions
            {
                ContentType = "text/html",
                Body = $"""<!doctype html><html><head><meta charset="utf-8"><title>{path}</title><script defer data-site-key="{SystemFixture.WriteKey}" src="/t.js"></script></head><body>{path}</body></html>""",
            }));
        }

        await visitor.GotoAsync(ingest + "/visitor/pricing");
        var id = await visitor.EvaluateAsync<string>("() => new Promise(r => { const t = setInterval(() => { if (window.insights?.visitorId?.()) { clearInterval(t); r(window.insights.visitorId()) } }, 50) })");
        Assert.False(string.IsNullOrEmpty(id));

        await SeenAsync(agent, $"visitor_joined {id} /visitor/pricing", id);

        await visitor.GotoAsync(ingest + "/visitor/contact");
        await SeenAsync(agent, $"page_changed {id} /visitor/contact", id);
    }

    // What t.js's page sent to ingest and what ingest answered, for a miss's message.
    private readonly List<string> trackerPosts = [];

    // A miss says which stage lost the visitor: what t.js sent and ingest answered, what the agent's page received
    // (a 'reset' means its stream fell behind the replay ring), whether presence holds the visitor now, and what the
    // three services logged (warnings and up in this fixture). This test failed now and then in full CI runs with
    // nothing to go on, and a run's services are gone once it ends.
    private async Task SeenAsync(IPage agent, string line, string visitorId)
    {
        try
        {
            await Assertions.Expect(agent.Locator("#log li", new() { HasText = line })).ToHaveCountAsync(1, new() { Timeout = 60_000 });
        }
        catch (PlaywrightException e)
        {
            // The start-up's failed readiness probes ("migrating the ClickHouse schema", one every ~100 ms while the
            // fixture waits) would fill the tail; what a service logged after that is what tells.
            static string Tail(string output)
            {
                var kept = string.Join('\n', output.Split('\n').Where(line => !line.Contains("HealthCheckLogScope", StringComparison.Ordinal)));
                return kept.Length > 4000 ? "…" + kept[^4000..] : kept;
            }

            var received = await agent.Locator("#log li").AllTextContentsAsync();
            string presence;
            try
            {
                using var query = new HttpClient { BaseAddress = system.QueryApi.Address, Timeout = TimeSpan.FromSeconds(10) };
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/sites/{SystemFixture.Site}/live");
                request.Headers.Authorization = new("Bearer", SystemFixture.ReadKey);
                using var snapshot = await query.SendAsync(request, TestContext.Current.CancellationToken);
                var present = (await snapshot.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Contains(visitorId, StringComparison.Ordinal);
                presence = $"{(int)snapshot.StatusCode}, the visitor {(present ? "is" : "is not")} present";
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
            {
                // The query API gone or hung is itself the finding; the miss is still reported with the rest.
                presence = $"no answer ({error.Message})";
            }

            string posts;
            lock (trackerPosts)
            {
                posts = string.Join('\n', trackerPosts);
            }

            throw new InvalidOperationException(
                $"The agent's page never showed \"{line}\".\n--- t.js to ingest ---\n{posts}" +
                $"\n--- the agent's page received {received.Count} events, the last 20 ---\n{string.Join('\n', received.TakeLast(20))}" +
                $"\n--- GET /live now: {presence} ---" +
                $"\n--- ingest ---\n{Tail(system.Ingest.Output)}\n--- processors ---\n{Tail(system.Processors.Output)}" +
                $"\n--- query API ---\n{Tail(system.QueryApi.Output)}", e);
        }
    }

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the agent's stream did not open within 60 s");
        }
    }
}
