using System.Text;
using System.Text.Json;
using Insights.QueryApi.Apis;
using Insights.ServiceDefaults;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Insights.QueryApi.Subjects;

/// <summary>
/// A person's data on request (GDPR access and erasure): <c>POST /v1/sites/{site}/subjects/export</c> and
/// <c>/subjects/erase</c>, the subject in a JSON body, the site's server key in a header. Mapped beside the reports,
/// through the same mediator pipeline (metrics, then the one key check).
/// </summary>
public static class SubjectEndpoints
{
    public const string NdjsonContentType = "application/x-ndjson";

    public static IServiceCollection AddSubjectRequests(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<SubjectOptions>(configuration, SubjectOptions.Section);
        return services.AddSingleton<SubjectStore>();
    }

    public static IEndpointRouteBuilder MapSubjectRequests(this IEndpointRouteBuilder app)
    {
        var subjects = app.MapGroup("/v1/sites/{site}/subjects")
            .WithTags("Personal data")
            .RequireServerKey()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        subjects.MapPost("/export", Export)
            .WithName("ExportSubject")
            .WithSummary("Export everything stored about a person (NDJSON)")
            .WithDescription(
                "Needs the site's server key (a read key gets 403 server_key_required). The body names the person by exactly one of " +
                "'anonymousId', 'userId' or 'email' (hashed as ingest hashes it; the address is not stored). The subject is resolved " +
                "through the identity graph: every visitor id, user id, e-mail hash, chat and order the person stated a link to is " +
                "covered; ids linked only by a guess (same IP and user agent) are not. The answer is NDJSON, one JSON object per line: " +
                "first {\"table\":\"_subject\",...} with the ids covered, then one line per stored row with a 'table' field and the row's " +
                "columns (events, sessions, identity_links, identities, chat_events, chats, order_events, orders, attribution_credits, " +
                "goal_completions, visitor_quarters), last {\"table\":\"_end\",\"rows\":{...}} with the rows per table. A stream without " +
                "the _end line was cut short (the database failed mid-way): ask again. Every export is recorded in subject_requests.")
            .Accepts<SubjectBody>("application/json")
            .Produces<string>(StatusCodes.Status200OK, NdjsonContentType);

        subjects.MapPost("/erase", Erase)
            .WithName("EraseSubject")
            .WithSummary("Delete everything stored about a person")
            .WithDescription(
                "Needs the site's server key. The body names the person as for export, and the same rows are deleted: the export " +
                "afterwards has no row. Synchronous: when it answers 200 the rows are gone from every query (ClickHouse lightweight " +
                "delete); the disk space is freed at the tables' next merges. The answer lists the ids covered and the rows deleted " +
                "per table, and the id of its audit record (subject_requests keeps the subject's hash, never the id). Running it again " +
                "deletes nothing more. Not reached: the Kafka topics keep the raw events until their retention, and a replay of them " +
                "would store the person again (see the query API's README).")
            .Accepts<SubjectBody>("application/json");

        return app;
    }

    public static async Task<Results<NdjsonExport, ValidationProblem, ProblemHttpResult>> Export(string site, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);
        var (body, tooLarge) = await RequestBodies.ReadAsync(context.Request, Subject.MaxBodyBytes, context.RequestAborted);
        var outcome = await sender.Send(new SubjectExportQuery(site, ReadKeys.From(context.Request), body, tooLarge), context.RequestAborted);
        return outcome.ToHttpResult(context.Response, export => new NdjsonExport(export));
    }

    public static async Task<Results<Ok<SubjectErasure>, ValidationProblem, ProblemHttpResult>> Erase(string site, HttpContext context, ISender sender)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sender);
        var (body, tooLarge) = await RequestBodies.ReadAsync(context.Request, Subject.MaxBodyBytes, context.RequestAborted);
        var outcome = await sender.Send(new SubjectEraseQuery(site, ReadKeys.From(context.Request), body, tooLarge), context.RequestAborted);
        return outcome.ToHttpResult(context.Response);
    }
}

/// <summary>
/// Writes an export as NDJSON while its rows arrive from ClickHouse, never holding them all: the <c>_subject</c> line,
/// one line per row (<c>{"table":"events", ...the row's columns}</c>), the <c>_end</c> line with the rows per table.
/// </summary>
public sealed class NdjsonExport(SubjectExport export) : IResult
{
    private const int FlushEveryRows = 500;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        var cancellationToken = httpContext.RequestAborted;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = SubjectEndpoints.NdjsonContentType + "; charset=utf-8";
        response.Headers[HeaderNames.CacheControl] = "no-store";

        await using var writer = new StreamWriter(response.Body, new UTF8Encoding(false), bufferSize: 16 * 1024, leaveOpen: true);
        var ids = CoveredIds.Of(export.Ids);
        await WriteLineAsync(writer, new Dictionary<string, object>
        {
            ["table"] = "_subject",
            ["site"] = export.Site,
            ["requestId"] = export.RequestId,
            ["subjectKind"] = export.Subject.Kind,
            ["subjectHash"] = export.Subject.Hash,
            ["ids"] = ids,
            ["weakLinksNotFollowed"] = export.Ids.WeakLinksNotFollowed,
        });

        var rows = PersonalTables.All.ToDictionary(t => t.Table, _ => 0L, StringComparer.Ordinal);
        var written = 0;
        await foreach (var (table, json) in export.Rows.WithCancellation(cancellationToken))
        {
            // The table names are constants; the row is ClickHouse's own JSON object, to which the table is prepended.
            await writer.WriteAsync("{\"table\":\"" + table + "\"," + json.AsSpan(1).ToString() + "\n");
            rows[table]++;
            if (++written % FlushEveryRows == 0)
            {
                await writer.FlushAsync(cancellationToken);
            }
        }

        await WriteLineAsync(writer, new Dictionary<string, object> { ["table"] = "_end", ["rows"] = rows });
        await writer.FlushAsync(cancellationToken);
    }

    private static Task WriteLineAsync(StreamWriter writer, Dictionary<string, object> line) =>
        writer.WriteAsync(JsonSerializer.Serialize(line, Json) + "\n");
}
