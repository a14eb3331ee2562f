using System.Net;
using System.Net.Sockets;
using System.Text;
using Insights.ControlPlane;
using Insights.DevStack.Testing;
using Insights.QueryApi.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Insights.QueryApi.Tests;

/// <summary>The outbox reaches a real SMTP conversation over loopback TCP (a minimal server in the test), and is marked sent.</summary>
public sealed class MailDeliveryTests(DevStackFixture stack)
{
    [Fact]
    public async Task A_sign_in_link_is_delivered_over_smtp_and_marked_sent()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var server = ReceiveOneMailAsync(listener);

        var settings = TestSites.Settings(stack.ConnectionString(), "unused");
        settings["Mail:Host"] = "127.0.0.1";
        settings["Mail:Port"] = ((IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Mail:Security"] = "None";
        settings["Mail:From"] = "Insights <noreply@insights.example>";
        settings["Mail:PollInterval"] = "00:00:01";
        await using var api = new QueryApiFactory(settings);
        using var browser = new Browser(api.CreateClient(new() { BaseAddress = new Uri("https://localhost") }));
        var dbs = api.Services.GetRequiredService<IDbContextFactory<ControlPlaneDb>>();
        await using (var db = await dbs.CreateDbContextAsync(Http.Ct))
        {
            db.People.Add(new() { Id = Guid.NewGuid(), Email = "mail@people.example", NormalizedEmail = "mail@people.example", SecurityStamp = "s", CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync(Http.Ct);
        }

        using (var asked = await browser.SendAsync(HttpMethod.Post, "/v1/auth/links", new { email = "mail@people.example" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, asked.StatusCode);
        }

        var (recipients, data) = await server.WaitAsync(TimeSpan.FromSeconds(20), Http.Ct);
        Assert.Equal(["<mail@people.example>"], recipients);
        Assert.Contains("/v1/auth/links/isl_", data, StringComparison.Ordinal);
        Assert.Contains("noreply@insights.example", data, StringComparison.Ordinal);

        for (var attempt = 0; ; attempt++)
        {
            await using var db = await dbs.CreateDbContextAsync(Http.Ct);
            if (await db.Outbox.AnyAsync(m => m.To == "mail@people.example" && m.SentAt != null, Http.Ct))
            {
                break;
            }

            Assert.True(attempt < 50, "the mail was delivered but never marked sent");
            await Task.Delay(100, Http.Ct);
        }
    }

    /// <summary>Just enough SMTP (RFC 5321) for one mail: greeting, EHLO, MAIL, RCPT, DATA, QUIT.</summary>
    private static async Task<(List<string> Recipients, string Data)> ReceiveOneMailAsync(TcpListener listener)
    {
        using var client = await listener.AcceptTcpClientAsync(Http.Ct);
        await using var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        await using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\r\n", AutoFlush = true };
        var recipients = new List<string>();
        var data = new StringBuilder();
        await writer.WriteLineAsync("220 test.example ESMTP");
        while (await reader.ReadLineAsync(Http.Ct) is { } line)
        {
            var verb = line.Split(' ', ':')[0].ToUpperInvariant();
            switch (verb)
            {
                case "EHLO" or "HELO":
                    await writer.WriteLineAsync("250 test.example");
                    break;
                case "RCPT":
                    recipients.Add(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim());
                    await writer.WriteLineAsync("250 OK");
                    break;
                case "DATA":
                    await writer.WriteLineAsync("354 go ahead");
                    while (await reader.ReadLineAsync(Http.Ct) is { } body && body != ".")
                    {
                        data.AppendLine(body);
                    }

                    await writer.WriteLineAsync("250 queued");
                    break;
                case "QUIT":
                    await writer.WriteLineAsync("221 bye");
                    return (recipients, data.ToString());
                default:
                    await writer.WriteLineAsync("250 OK");
                    break;
            }
        }

        return (recipients, data.ToString());
    }
}
