using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Insights.Contracts;
using Insights.QueryApi.Apis;
using Insights.QueryApi.Pipeline;
using Insights.ServiceDefaults;
using Mediator;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Insights.QueryApi.Live;

/// <summary>
/// A visitor's page asking for its invitations. Authorized by the one authorization point like every site query, with
/// <see cref="Permission.ReceiveInvitations"/>: the site's public write key, which names the site, and nothing else.
/// The visitor is whoever the <see cref="Secret"/> proves (<see cref="VisitorSecret"/>), never an id the caller names.
/// </summary>
public sealed record VisitorChannelQuery(string Site, PresentedKey Key, string? Secret, bool BodyTooLarge)
    : IQuery<QueryOutcome<VisitorChannel>>, ISiteQuery<VisitorChannelQuery>
{
    public static KeyKind RequiredKey => KeyKind.Write;

    public SiteOptions? AuthorizedSite { get; private init; }

    public VisitorChannelQuery Authorized(SiteOptions site) => this with { AuthorizedSite = site };

    // The secret is a credential: never printed with the query.
    public override string ToString() => $"VisitorChannelQuery {{ Site = {Site}, Key = {Key} }}";
}

/// <summary>Whose invitations a connection receives: the site the key named and the visitor the secret proved.</summary>
public sealed record VisitorChannel(string Site, string Visitor);

public sealed class VisitorChannelHandler : IQueryHandler<VisitorChannelQuery, QueryOutcome<VisitorChannel>>
{
    public ValueTask<QueryOutcome<VisitorChannel>> Handle(VisitorChannelQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var site = query.AuthorizedSite ?? throw new InvalidOperationException("VisitorChannelQuery reached its handler unauthorized.");
        if (query.BodyTooLarge)
        {
            return ValueTask.FromResult<QueryOutcome<VisitorChannel>>(new QueryProblem(StatusCodes.Status413PayloadTooLarge, "body_too_large",
                "The body is too large", $"The body is the visitor's secret: at most {VisitorSecret.MaxLength} characters."));
        }

        if (VisitorSecret.Derive(query.Secret) is not { } visitor)
        {
            return ValueTask.FromResult<QueryOutcome<VisitorChannel>>(new QueryProblem(StatusCodes.Status400BadRequest, "invalid_secret",
                "Not a visitor secret", "The body must be the visitor's secret as the tracker keeps it: eight 32-bit words in decimal, comma-separated."));
        }

        return ValueTask.FromResult<QueryOutcome<VisitorChannel>>(new VisitorChannel(site.Id, visitor));
    }
}

/// <summary>
/// Open visitor connections on this instance, per client address and per site, so that public input cannot hold an
/// unbounded number of them. A slot is taken after authorization and released when the connection ends.
/// </summary>
public sealed class VisitorChannelLimits(IOptions<VisitorChannelOptions> options)
{
    private readonly Dictionary<string, int> perAddress = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> perSite = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    /// <summary>Open connections on this instance (all sites).</summary>
    public int Open { get; private set; }

    /// <summary>A slot for one connection, or null with the limit that was reached ("address" or "site").</summary>
    public (IDisposable? Slot, string? Limit) TryEnter(string site, string address)
    {
        var limits = options.Value;
        lock (gate)
        {
            if (perAddress.GetValueOrDefault(address) >= limits.MaxConnectionsPerAddress)
            {
                return (null, "address");
            }

            if (perSite.GetValueOrDefault(site) >= limits.MaxConnectionsPerSite)
            {
                return (null, "site");
            }

            perAddress[address] = perAddress.GetValueOrDefault(address) + 1;
            perSite[site] = perSite.GetValueOrDefault(site) + 1;
            Open++;
        }

        return (new Slot(this, site, address), null);
    }

    private void Leave(string site, string address)
    {
        lock (gate)
        {
            Decrement(perAddress, address);
            Decrement(perSite, site);
            Open--;
        }
    }

    private static void Decrement(Dictionary<string, int> counts, string key)
    {
        if (--counts[key] == 0)
        {
            counts.Remove(key);
        }
    }

    private sealed class Slot(VisitorChannelLimits limits, string site, string address) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                limits.Leave(site, address);
            }
        }
    }
}

/// <summary><c>POST /v1/sites/{site}/visitor/invitations?key=WRITE_KEY</c>: a visitor's page receiving its invitations.</summary>
public static class VisitorChannelEndpoints
{
    public const string Path = "/v1/sites/{site}/visitor/invitations";

    public static IServiceCollection AddVisitorChannel(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<VisitorChannelOptions>(configuration, VisitorChannelOptions.Section);
        services.AddSingleton<VisitorChannelLimits>();
        return services;
    }

    public static IEndpointRouteBuilder MapVisitorChannel(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Any page may open it (the tracker runs on the site's pages, another origin), never with credentials.
        var channel = app.MapGroup(Path)
            .WithTags("Visitor invitations")
            .AddEndpointFilter(async (context, next) =>
            {
                var headers = context.HttpContext.Response.Headers;
                headers.AccessControlAllowOrigin = "*";
                headers.CacheControl = "no-store";
                return await next(context);
            });
        channel.MapPost("", Open)
            .WithName("OpenVisitorInvitations")
            .WithSummary("A visitor's invitations to chat, as Server-Sent Events")
            .WithDescription(
                "For the site's own pages (invite.js): the site's public write key in ?key= (the only key taken here, and the only " +
                "endpoint that takes a key in the URL), the body the visitor's secret as text/plain (eight 32-bit words in decimal, " +
                "comma-separated), which proves the visitor: the id is derived from it, so knowing a visitor id is not enough. " +
                "Answers text/event-stream: ': ready' once listening, 'invitation' events (data: id, rule, message, sentAt), a " +
                "': heartbeat' comment every Live:HeartbeatSeconds, 'replaced' when the same visitor connected again elsewhere (another " +
                "tab); closed after VisitorChannel:MaxConnectionTime, then the page reconnects. CORS for any origin, without credentials. " +
                "400 invalid_secret, 401 missing_key/unknown_key/secret_key_in_url, 403 write_key_required, 404 site_not_found, " +
                "413 body_too_large, 429 too_many_connections (per client address or per site, Retry-After).")
            .Accepts<string>("text/plain")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        // A page that adds a header gets a preflight: answered, so the refusal it then meets says why.
        channel.MapMethods("", [HttpMethods.Options], (HttpResponse response) =>
        {
            response.Headers.AccessControlAllowMethods = "POST";
            response.Headers.AccessControlAllowHeaders = "Content-Type";
            response.Headers.AccessControlMaxAge = "86400";
            return TypedResults.NoContent();
        }).ExcludeFromDescription();
        return app;
    }

    public static async Task<Results<VisitorChannelResult, ValidationProblem, ProblemHttpResult>> Open(
        [FromRoute(Name = "site"), Description("Site id.")] string site,
        [FromQuery(Name = "key"), Description("The site's public write key.")] string? key,
        HttpContext context, ISender sender, VisitorChannelLimits limits, VisitorInvitations invitations,
        IOptions<LiveOptions> live, IOptions<VisitorChannelOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(live);
        ArgumentNullException.ThrowIfNull(options);
        var (secret, tooLarge) = await ReadSecretAsync(context.Request);
        // The key may come from the URL here (a header would cost every page a preflight); a key in a header is taken too,
        // and both are checked as keys, so a read or server key in the URL is still refused as leaked.
        var header = ReadKeys.From(context.Request);
        var presented = new PresentedKey(header.Value ?? (string.IsNullOrEmpty(key) ? null : key), header.InUrl);
        var outcome = await sender.Send(new VisitorChannelQuery(site, presented, secret, tooLarge), context.RequestAborted);
        IDisposable? slot = null;
        if (outcome.Value is { } channel)
        {
            (slot, var limit) = limits.TryEnter(channel.Site, context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            if (slot is null)
            {
                context.Response.Headers.RetryAfter = "30";
                outcome = new QueryProblem(StatusCodes.Status429TooManyRequests, "too_many_connections", "Too many connections",
                    limit == "address"
                        ? "Too many invitation connections from this address; try again later."
                        : "Too many invitation connections for this site on this instance; try again later.");
            }
        }

        return outcome.ToHttpResult(context.Response, channel => new VisitorChannelResult(invitations, channel, slot!,
            TimeSpan.FromSeconds(live.Value.HeartbeatSeconds), options.Value.MaxConnectionTime, time));
    }

    /// <summary>The body, read only up to one character past the longest secret: public input is bounded in bytes.</summary>
    private static async Task<(string? Secret, bool TooLarge)> ReadSecretAsync(HttpRequest request)
    {
        if (request.ContentLength > VisitorSecret.MaxLength + 2)
        {
            return (null, true);
        }

        var buffer = new byte[VisitorSecret.MaxLength + 3];
        var read = 0;
        int last;
        while (read < buffer.Length && (last = await request.Body.ReadAsync(buffer.AsMemory(read), request.HttpContext.RequestAborted)) > 0)
        {
            read += last;
        }

        if (read == buffer.Length)
        {
            return (null, true);
        }

        try
        {
            return (new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer, 0, read), false);
        }
        catch (DecoderFallbackException)
        {
            return (null, false);
        }
    }
}

/// <summary>
/// Writes one visitor's invitations as Server-Sent Events until the page leaves, the connection's time is up, or the
/// visitor connects again elsewhere (<see cref="VisitorInvitations.Listen"/> keeps one connection per visitor).
/// </summary>
public sealed class VisitorChannelResult(
    VisitorInvitations invitations, VisitorChannel channel, IDisposable slot, TimeSpan heartbeat, TimeSpan maxTime, TimeProvider time) : IResult
{
    private static readonly byte[] Ready = ": ready\n\n"u8.ToArray();
    private static readonly byte[] Heartbeat = ": heartbeat\n\n"u8.ToArray();
    private static readonly byte[] Replaced = "event: replaced\ndata: {}\n\n"u8.ToArray();
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        using var held = slot;
        var response = httpContext.Response;
        response.ContentType = "text/event-stream";
        response.Headers["X-Accel-Buffering"] = "no";
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        using var expiry = new CancellationTokenSource(maxTime, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted, expiry.Token);
        var stop = linked.Token;
        var listening = invitations.Listen(channel.Site, channel.Visitor, stop).GetAsyncEnumerator(stop);
        // The first MoveNext registers the connection before anything is written: after ': ready' an offer reaches it.
        var next = listening.MoveNextAsync().AsTask();
        try
        {
            await response.Body.WriteAsync(Ready, stop);
            await response.Body.FlushAsync(stop);
            while (true)
            {
                var beat = Task.Delay(heartbeat, time, stop);
                if (await Task.WhenAny(next, beat) != next)
                {
                    await beat;
                    await response.Body.WriteAsync(Heartbeat, stop);
                    await response.Body.FlushAsync(stop);
                    continue;
                }

                if (!await next)
                {
                    // A newer connection of the same visitor took over: this page should not reconnect until it is shown again.
                    await response.Body.WriteAsync(Replaced, stop);
                    await response.Body.FlushAsync(stop);
                    break;
                }

                await WriteAsync(response, listening.Current, stop);
                next = listening.MoveNextAsync().AsTask();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The page left or the connection's time is up: the normal end.
        }
        finally
        {
            await linked.CancelAsync();
            try
            {
                await next;
            }
            catch (OperationCanceledException)
            {
                // Cancelled above.
            }

            await listening.DisposeAsync();
        }
    }

    private static async Task WriteAsync(HttpResponse response, VisitorInvitation invitation, CancellationToken stop)
    {
        var data = JsonSerializer.Serialize(new { id = invitation.Id, rule = invitation.Rule, message = invitation.Message, sentAt = invitation.SentAt }, Json);
        // The id comes from a rule or an agent: one line, whatever it holds, so it cannot start another field.
        var id = new string([.. invitation.Id.Take(200).Select(c => char.IsControl(c) ? '_' : c)]);
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"id: {id}\nevent: invitation\ndata: {data}\n\n")), stop);
        await response.Body.FlushAsync(stop);
    }
}
