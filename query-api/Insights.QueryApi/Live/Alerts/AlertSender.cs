using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Insights.Contracts;
using Insights.ControlPlane.Model;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Live.Alerts;

/// <summary>What one attempt came to: delivered (2xx), or why not (the receiver's status and the start of its answer, or the error).</summary>
public sealed record AttemptResult(bool Delivered, int? StatusCode, string? Error);

/// <summary>
/// POSTs one alert to one destination: the payload signed (<see cref="AlertSignature"/>) for a webhook, a Slack message
/// for Slack. One client for the process: no redirects (a redirect could lead anywhere), no proxy, connections only to
/// addresses <see cref="AlertAddresses"/> allows, at most <see cref="AlertOptions.Timeout"/> per attempt and
/// <see cref="AlertOptions.MaxResponseBytes"/> of the answer read.
/// </summary>
public sealed class AlertSender : IDisposable
{
    private const string UserAgent = "Insights-Alerts/1.0";
    private readonly HttpClient client;
    private readonly AlertOptions options;
    private readonly TimeProvider time;

    public AlertSender(IOptions<AlertOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Value;
        this.time = time;
        client = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = this.options.Timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            MaxResponseHeadersLength = 16,
            ConnectCallback = AlertAddresses.Connect(this.options.AllowPrivateAddresses),
        })
        { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    }

    public async Task<AttemptResult> SendAsync(AlertDelivery delivery, AlertDestination destination, string payloadJson, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        ArgumentNullException.ThrowIfNull(destination);
        if (!options.AllowPrivateAddresses && !destination.Url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return new AttemptResult(false, null, "blocked_address: alerts go over https only");
        }

        var body = destination.Kind == AlertKinds.Slack ? SlackMessage.From(payloadJson) : Encoding.UTF8.GetBytes(payloadJson);
        using var request = new HttpRequestMessage(HttpMethod.Post, destination.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.UserAgent.ParseAdd(UserAgent);
        request.Headers.Add("X-Insights-Alert", delivery.AlertId);
        request.Headers.Add("X-Insights-Delivery", delivery.Id.ToString("D"));
        request.Headers.Add("X-Insights-Attempt", delivery.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (destination.Kind == AlertKinds.Webhook && destination.Secret is { } secret)
        {
            request.Headers.Add(AlertSignature.Header, AlertSignature.Create(secret, time.GetUtcNow().ToUnixTimeSeconds(), body));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return new AttemptResult(true, status, null);
            }

            return new AttemptResult(false, status, $"HTTP {status}: {await ReadStartAsync(response, timeout.Token)}".TrimEnd(' ', ':'));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new AttemptResult(false, null, $"timeout: no answer within {options.Timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            return new AttemptResult(false, null, e.InnerException is BlockedAddressException blocked ? blocked.Message : $"connection: {e.Message}");
        }
    }

    /// <summary>The start of the receiver's answer, at most <see cref="AlertOptions.MaxResponseBytes"/> bytes; the rest is never read.</summary>
    private async Task<string> ReadStartAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = new byte[options.MaxResponseBytes];
        var filled = 0;
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            int read;
            while (filled < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken)) > 0)
            {
                filled += read;
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            // The answer's status is what counts; a body cut short is shown as far as it came.
        }

        return new string([.. Encoding.UTF8.GetString(buffer, 0, filled).Select(c => char.IsControl(c) ? ' ' : c)]).Trim();
    }

    public void Dispose() => client.Dispose();
}

/// <summary>
/// The Slack incoming-webhook body for an alert: <c>{"text": …, "blocks": [section, context]}</c>. <c>text</c> is the
/// notification's fallback; the blocks show the rule, why, the company and the page. Text from visitors (titles,
/// company names) is escaped for Slack (&amp;, &lt;, &gt;), so it cannot form links or mentions.
/// </summary>
public static class SlackMessage
{
    private const int MaxSectionText = 2900;

    public static byte[] From(string payloadJson)
    {
        var alert = JsonSerializer.Deserialize<AlertPayload>(payloadJson, SitePresence.Json) ?? throw new JsonException("null alert");
        var visitor = alert.Visitor;
        var who = visitor.Company is { } company ? $"{company.Name}{(company.Domain is { } d ? $" ({d})" : "")}" : $"Visitor {visitor.VisitorId}";
        var title = string.IsNullOrEmpty(alert.Rule.Name) ? alert.Rule.Kind : alert.Rule.Name;
        var text = $"{title} on {alert.Site}: {who}. {alert.Reason}";
        var details = new List<string> { $"score {visitor.Score}" };
        if (visitor.Visits is { } visits)
        {
            details.Add($"visit {visits}");
        }

        if (visitor.Location?.Country is { } country)
        {
            details.Add(country);
        }

        if (visitor.Page?.Path is { } path)
        {
            details.Add($"on {path}{(visitor.Page.Title is { Length: > 0 } t ? $" ({t})" : "")}");
        }

        var body = new JsonObject
        {
            ["text"] = Cut(Escape(text)),
            ["blocks"] = new JsonArray(
                new JsonObject
                {
                    ["type"] = "section",
                    ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = Cut($"*{Escape(title)}* on *{Escape(alert.Site)}*\n{Escape(who)}: {Escape(alert.Reason)}") },
                },
                new JsonObject
                {
                    ["type"] = "context",
                    ["elements"] = new JsonArray(new JsonObject { ["type"] = "mrkdwn", ["text"] = Cut(Escape(string.Join(" · ", details))) }),
                }),
        };
        return JsonSerializer.SerializeToUtf8Bytes(body);
    }

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Cut(string text) => text.Length <= MaxSectionText ? text : text[..MaxSectionText] + "…";
}
