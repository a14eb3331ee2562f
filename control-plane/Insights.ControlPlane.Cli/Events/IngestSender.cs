using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;

namespace Insights.ControlPlane.Cli.Events;

/// <summary>What ingest said about one batch: how many events Kafka now holds, and the refused ones by index.</summary>
public sealed record BatchOutcome(int Accepted, IReadOnlyList<(int Index, string Reason, string Detail)> Rejected);

/// <summary>
/// Sends prepared events to ingest's one admission path, <c>POST /v1/events</c> with the site's server key, and waits
/// out what is temporary: 429 (the site's server-key rate; <c>Retry-After</c>), 503 (Kafka did not acknowledge) and an
/// unreachable ingest are retried with the same batch, whose ids make a retry harmless, for at most
/// <c>retryFor</c>. A key ingest does not know yet (its catalog refreshes every second or so) is retried briefly. What
/// cannot get better stops the import with the fix: a refused key, a body ingest cannot read.
/// </summary>
public sealed class IngestSender(HttpClient http, string key, TimeSpan retryFor, TimeProvider time)
{
    private static readonly TimeSpan UnknownKeyPatience = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    /// <summary>How many times a batch was sent again (429, 503, network), for the summary.</summary>
    public int Retries { get; private set; }

    public async Task<BatchOutcome> SendAsync(IReadOnlyList<byte[]> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var started = time.GetTimestamp();
        var wait = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            string? temporary;
            TimeSpan? retryAfter = null;
            try
            {
                using var response = await PostAsync(events, cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                switch (response.StatusCode)
                {
                    case HttpStatusCode.Accepted:
                        return Outcome(body);
                    case HttpStatusCode.BadRequest when HasRejected(body):
                        // No event of the batch was valid: each is reported by its index, like a 202's refusals.
                        return Outcome(body);
                    case HttpStatusCode.RequestEntityTooLarge when events.Count > 1:
                        // Ingest's bounds are smaller than ours: halves, in order.
                        var half = events.Count / 2;
                        var first = await SendAsync([.. events.Take(half)], cancellationToken);
                        var second = await SendAsync([.. events.Skip(half)], cancellationToken);
                        return new BatchOutcome(first.Accepted + second.Accepted,
                            [.. first.Rejected, .. second.Rejected.Select(r => (r.Index + half, r.Reason, r.Detail))]);
                    case HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable:
                        temporary = $"{(int)response.StatusCode} {Reason(body)}";
                        retryAfter = response.Headers.RetryAfter?.Delta;
                        break;
                    case HttpStatusCode.Unauthorized when Reason(body) == "unknown_key" && time.GetElapsedTime(started) < UnknownKeyPatience:
                        // A key created a moment ago: ingest's catalog has not caught up yet.
                        temporary = "401 unknown_key";
                        break;
                    case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                        throw new AdminException(
                            $"ingest refuses the key ({(int)response.StatusCode} {Reason(body)}: {Detail(body)}); pass the site's server key with --key " +
                            "(insights-admin keys list --site <SITE-ID> shows which keys work; rotate one to get a new key)");
                    default:
                        throw new AdminException($"ingest answered {(int)response.StatusCode} {Reason(body)}: {Detail(body)}");
                }
            }
            catch (HttpRequestException error) when (error.InnerException is SocketException or IOException || error.HttpRequestError is HttpRequestError.ConnectionError)
            {
                temporary = $"ingest unreachable at {http.BaseAddress} ({error.Message})";
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                temporary = $"ingest at {http.BaseAddress} did not answer within {http.Timeout.TotalSeconds:0} s";
            }

            if (time.GetElapsedTime(started) >= retryFor)
            {
                throw new AdminException(
                    $"gave up after {retryFor.TotalSeconds:0} s of retries: {temporary}. Check that ingest runs at --ingest {http.BaseAddress} " +
                    "and that Kafka is up (its /readyz), then run the same command again: events already imported are not counted twice",
                    ExitCodes.Unavailable);
            }

            Retries++;
            var delay = retryAfter is { } after && after > TimeSpan.Zero ? Min(after, MaxWait) : wait;
            wait = Min(wait * 2, MaxWait);
            await Task.Delay(delay, time, cancellationToken);
        }
    }

    private async Task<HttpResponseMessage> PostAsync(IReadOnlyList<byte[]> events, CancellationToken cancellationToken)
    {
        var length = 2 + events.Sum(e => e.Length + 1);
        var body = new byte[length];
        var at = 0;
        body[at++] = (byte)'[';
        for (var i = 0; i < events.Count; i++)
        {
            if (i > 0)
            {
                body[at++] = (byte)',';
            }

            events[i].CopyTo(body, at);
            at += events[i].Length;
        }

        body[at++] = (byte)']';
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new ByteArrayContent(body, 0, at) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("X-Insights-Key", key);
        return await http.SendAsync(request, cancellationToken);
    }

    private static BatchOutcome Outcome(string body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var accepted = root.TryGetProperty("accepted", out var a) && a.ValueKind == JsonValueKind.Number ? a.GetInt32() : 0;
        var rejected = new List<(int, string, string)>();
        if (root.TryGetProperty("rejected", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var r in list.EnumerateArray())
            {
                rejected.Add((r.GetProperty("index").GetInt32(), r.GetProperty("reason").GetString() ?? "", r.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : ""));
            }
        }

        return new BatchOutcome(accepted, rejected);
    }

    private static bool HasRejected(string body) => Try(body, root => root.TryGetProperty("rejected", out var r) && r.ValueKind == JsonValueKind.Array);

    private static string Reason(string body) => Field(body, "reason") ?? "no_reason";

    private static string Detail(string body) => Field(body, "detail") ?? (body.Length > 200 ? body[..200] : body);

    private static string? Field(string body, string name)
    {
        string? value = null;
        Try(body, root =>
        {
            value = root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            return true;
        });
        return value;
    }

    private static bool Try(string body, Func<JsonElement, bool> read)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && read(document.RootElement);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
