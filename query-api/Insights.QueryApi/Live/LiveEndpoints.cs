using System.ComponentModel;
using System.Globalization;
using System.Text;
using Insights.QueryApi.Apis;
using Insights.QueryApi.Pipeline;
using Insights.ServiceDefaults;
using Mediator;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Live;

/// <summary>The live snapshot and stream, mapped into the reports group (read key, same authorization as every report).</summary>
public static class LiveEndpoints
{
    public static IServiceCollection AddLivePresence(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<LiveOptions>(configuration, LiveOptions.Section)
            .Validate(o => o.FetchWait(configuration) is not null,
                $"{LiveOptions.KafkaFetchWaitKey} must be a whole number of ms from 0 to {LiveOptions.MaxFetchWaitMs} (the live reader's fetch wait when {LiveOptions.Section}:{nameof(LiveOptions.FetchWaitMaxMs)} is not set)");
        services.AddSingleton<LiveMetrics>();
        services.AddSingleton<PresenceBoard>();
        services.AddSingleton<VisitorInvitations>();
        services.AddVisitorChannel(configuration);
        services.AddSingleton<PresenceRebuild>();
        services.AddSingleton<VisitHistory>();
        var enabled = configuration.GetValue(LiveOptions.Section + ":" + nameof(LiveOptions.Enabled), true);
        if (enabled)
        {
            services.AddHostedService<PresenceConsumer>();
        }

        Invitations.InvitationEndpoints.AddInvitations(services, configuration, enabled);

        return services;
    }

    public static RouteGroupBuilder MapLive(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/live", GetLive)
            .WithTags("Live")
            .WithName("GetLive")
            .WithSummary("Who is on the site now")
            .WithDescription(
                "The visitors present now (an event within Live:IdleTimeout, default 5 minutes), most recently seen first, at most 'limit' " +
                "(default 200; 'total' counts everyone present, 'matching' everyone the filters keep): company, " +
                "this visit's lead score, location, device, current page, pages of the visit, time on site and page, referrer, channel, " +
                "campaign, visits so far and returning or new, chats and chat state, cart and order value, active or idle. 'eventId' is the stream id the snapshot is current " +
                "to: open the stream with it as Last-Event-ID to follow from there without a gap (the stream carries every visitor's " +
                "changes, listed or not). 503 'live_starting' while an instance " +
                "rebuilds presence at start.")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/live/stream", GetLiveStream)
            .WithTags("Live")
            .WithName("GetLiveStream")
            .WithSummary("Presence changes as Server-Sent Events")
            .WithDescription(
                "text/event-stream. First a 'snapshot' event (the same body as GET /live), then 'visitor_joined', 'page_changed', " +
                "'visitor_updated' (data: the visitor) and 'visitor_left' (data: visitorId, reason idle|evicted), each with an id that " +
                "only grows; 'invitation_suggested' (data: visitorId, rule, name, reason) when a suggest rule holds, and 'invitation_sent', " +
                "'invitation_shown', 'invitation_accepted', 'invitation_declined', 'invitation_dismissed' (data: visitorId, invitationId, rule, " +
                "message, chatState). Reconnect with 'Last-Event-ID' to resume without a gap; when that id is too old (beyond Live:ReplayEvents " +
                "changes) the stream starts with a 'reset' event carrying a fresh snapshot instead. A ': heartbeat' comment every " +
                "15 s. The key goes in the Authorization header, never the URL: browsers read the stream with fetch() streaming " +
                "(EventSource cannot send headers) or, once accounts exist, with the session cookie.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return api;
    }

    public static async Task<Results<Ok<LiveSnapshot>, ValidationProblem, ProblemHttpResult>> GetLive(
        [AsParameters] LiveParameters parameters, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);
        var query = new LiveSnapshotQuery(parameters.Site, ReadKeys.From(context.Request), parameters.Companies, parameters.MinScore,
            parameters.Page, parameters.Country, parameters.Limit);
        var outcome = await sender.Send(query, context.RequestAborted);
        RetryLater(outcome.Problem, context.Response);
        return outcome.ToHttpResult(context.Response);
    }

    public static async Task<Results<LiveStreamResult, ValidationProblem, ProblemHttpResult>> GetLiveStream(
        [FromRoute(Name = "site"), Description("Site id.")] string site,
        [FromHeader(Name = "Last-Event-ID"), Description("The id of the last event received, to resume after it.")] string? lastEventId,
        HttpContext context, ISender sender, IOptions<LiveOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(options);
        var outcome = await sender.Send(new LiveStreamQuery(site, ReadKeys.From(context.Request), lastEventId), context.RequestAborted);
        RetryLater(outcome.Problem, context.Response);
        return outcome.ToHttpResult(context.Response,
            feed => new LiveStreamResult(feed, TimeSpan.FromSeconds(options.Value.HeartbeatSeconds), time));
    }

    /// <summary>A 503 of presence says when to try again: it is starting, in seconds.</summary>
    internal static void RetryLater(QueryProblem? problem, HttpResponse response)
    {
        if (problem?.Status == StatusCodes.Status503ServiceUnavailable)
        {
            response.Headers.RetryAfter = "2";
        }
    }
}

public sealed record LiveParameters(
    [property: FromRoute(Name = "site"), Description("Site id.")] string Site,
    [property: FromQuery(Name = "companies"), Description("true: only visitors from an identified company.")] string? Companies,
    [property: FromQuery(Name = "min_score"), Description("Only visits with at least this lead score (0-100).")] string? MinScore,
    [property: FromQuery(Name = "page"), Description("Only visitors now on this path (exact, e.g. /pricing).")] string? Page,
    [property: FromQuery(Name = "country"), Description("Only visitors from this country (ISO 3166-1 alpha-2).")] string? Country,
    [property: FromQuery(Name = "limit"), Description("List at most this many of the matching visitors, most recently seen first (1-1000, default 200); 'total' and 'matching' count everyone.")] string? Limit = null);

/// <summary>
/// Writes a feed's changes as Server-Sent Events until the client leaves: a snapshot (or a reset when the resume id
/// is gone), the changes after it in order, and heartbeat comments while nothing happens. One writer for the site
/// stream and the partner stream; the feed decides what an id means.
/// </summary>
public sealed class LiveStreamResult(LiveFeed feed, TimeSpan heartbeat, TimeProvider time) : IResult
{
    private const int MaxPerWrite = 256;
    private static readonly byte[] Heartbeat = ": heartbeat\n\n"u8.ToArray();

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        var aborted = httpContext.RequestAborted;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        using var following = feed.Follow();
        try
        {
            if (!feed.Resumed)
            {
                await WriteEventAsync(response, feed.Snapshot(LiveEventNames.Snapshot, time.GetUtcNow()), aborted);
            }

            await response.Body.FlushAsync(aborted);
            while (!aborted.IsCancellationRequested)
            {
                var (changes, next) = feed.Read(MaxPerWrite);
                if (changes is null)
                {
                    await WriteEventAsync(response, feed.Snapshot(LiveEventNames.Reset, time.GetUtcNow()), aborted);
                    await response.Body.FlushAsync(aborted);
                    continue;
                }

                foreach (var change in changes)
                {
                    await WriteEventAsync(response, change, aborted);
                }

                if (changes.Count > 0)
                {
                    await response.Body.FlushAsync(aborted);
                    if (changes.Count == MaxPerWrite)
                    {
                        continue;
                    }
                }

                try
                {
                    await next.WaitAsync(heartbeat, time, aborted);
                }
                catch (TimeoutException)
                {
                    await response.Body.WriteAsync(Heartbeat, aborted);
                    await response.Body.FlushAsync(aborted);
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client left: the normal end of a stream.
        }
    }

    private static async Task WriteEventAsync(HttpResponse response, LiveFrame frame, CancellationToken aborted)
    {
        var (id, name, data) = (frame.Id, frame.Event, frame.Data);
        // Compact JSON never contains a line break (the serializer escapes them in strings): one data line per event.
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"id: {id}\nevent: {name}\ndata: ")), aborted);
        await response.Body.WriteAsync(data, aborted);
        await response.Body.WriteAsync("\n\n"u8.ToArray(), aborted);
    }
}
