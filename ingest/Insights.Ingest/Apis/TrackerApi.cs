using Insights.Ingest.Tracker;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Insights.Ingest.Apis;

/// <summary>
/// <c>GET /t.js</c>: the website tracker, from ingest itself so a site needs one host name for the script and its
/// events; <c>GET /invite.js</c>, the invitation script of sites that invite visitors to chat, served the same way.
/// Any page may load them (CORS <c>*</c>); brotli or gzip by <c>Accept-Encoding</c>; cached for a day and
/// revalidated by ETag, or for a year as immutable when the URL names the current version (<c>/t.js?v=...</c>).
/// </summary>
public static class TrackerApi
{
    public const string ScriptPath = "/t.js";

    public const string InvitationScriptPath = "/invite.js";

    // A day: a tracker fix reaches every browser by tomorrow, and a returning visitor re-downloads at most daily
    // (a 304 when unchanged). A versioned URL changes with the script, so it may be cached for good.
    private const string CacheForADay = "public, max-age=86400";
    private const string CacheForever = "public, max-age=31536000, immutable";
    private const string ContentType = "application/javascript; charset=utf-8";

    public static IEndpointRouteBuilder MapTrackerApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(ScriptPath, GetScript)
            .WithName("GetTracker")
            .WithTags("Tracker")
            .WithSummary("The website tracker script")
            .WithDescription(
                "Install with <script defer data-site-key=\"WRITE_KEY\" src=\"https://ingest.example/t.js\"></script>. " +
                "Optional attributes: data-api, data-cookieless, data-ignore-dnt. " +
                "Page API: insights('track', name, props), insights('identify', userId, traits), insights.visitorId().")
            .Produces(StatusCodes.Status200OK, contentType: "application/javascript")
            .Produces(StatusCodes.Status304NotModified);
        // HEAD answers the same headers (link checkers, tag managers' validators); not another operation in the reference.
        app.MapMethods(ScriptPath, [HttpMethods.Head], GetScript).ExcludeFromDescription();
        app.MapMethods(InvitationScriptPath, [HttpMethods.Get, HttpMethods.Head], GetInvitationScript)
            .WithName("GetInvitationScript")
            .WithTags("Tracker")
            .WithSummary("The invitation script")
            .WithDescription(
                "For sites that invite visitors to chat, after the t.js tag: <script async data-site-key=\"WRITE_KEY\" " +
                "data-channel=\"https://query.example/v1/sites/SITE/visitor/invitations\" src=\"https://ingest.example/invite.js\"></script>. " +
                "Shows invitations in an accessible bubble, or hands them to insights('on', 'invitation', fn); reports " +
                "invitation_shown/accepted/declined and exit_intent.")
            .Produces(StatusCodes.Status200OK, contentType: "application/javascript")
            .Produces(StatusCodes.Status304NotModified);
        return app;
    }

    public static FileContentHttpResult GetInvitationScript(HttpContext http, [FromKeyedServices(TrackerScript.Invitations)] TrackerScript script) =>
        GetScript(http, script);

    public static FileContentHttpResult GetScript(HttpContext http, TrackerScript script)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(script);
        var (bytes, encoding) = ChooseEncoding(http.Request.Headers.AcceptEncoding, script);

        var headers = http.Response.Headers;
        headers.CacheControl = http.Request.Query["v"] is [var version] && version == script.Version ? CacheForever : CacheForADay;
        headers.Vary = HeaderNames.AcceptEncoding;
        headers.AccessControlAllowOrigin = "*";
        // Pages that isolate themselves (Cross-Origin-Embedder-Policy: require-corp) load only resources that opt in.
        headers["Cross-Origin-Resource-Policy"] = "cross-origin";
        headers.XContentTypeOptions = "nosniff";
        if (encoding is not null)
        {
            headers.ContentEncoding = encoding;
        }

        // One ETag per representation (a strong validator names exact bytes); the result answers If-None-Match with 304.
        var tag = new EntityTagHeaderValue($"\"{script.Version}{(encoding is null ? "" : "-" + encoding)}\"");
        return TypedResults.Bytes(bytes, ContentType, entityTag: tag);
    }

    /// <summary>Brotli, else gzip, else identity, as the request's Accept-Encoding allows (a named coding's q wins over <c>*</c>).</summary>
    private static (byte[] Bytes, string? Encoding) ChooseEncoding(Microsoft.Extensions.Primitives.StringValues acceptEncoding, TrackerScript script)
    {
        double? brotli = null, gzip = null, any = null;
        if (StringWithQualityHeaderValue.TryParseList(acceptEncoding, out var offered))
        {
            foreach (var value in offered)
            {
                var quality = value.Quality ?? 1;
                if (value.Value.Equals("br", StringComparison.OrdinalIgnoreCase))
                {
                    brotli = quality;
                }
                else if (value.Value.Equals("gzip", StringComparison.OrdinalIgnoreCase))
                {
                    gzip = quality;
                }
                else if (value.Value == "*")
                {
                    any = quality;
                }
            }
        }

        var br = brotli ?? any ?? 0;
        var gz = gzip ?? any ?? 0;
        return br > 0 && br >= gz ? (script.Brotli, "br")
            : gz > 0 ? (script.Gzip, "gzip")
            : (script.Identity, null);
    }
}
