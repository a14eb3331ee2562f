namespace Insights.LoadGenerator;

/// <summary>
/// The baseline ingest is compared with: Kestrel on the same machine reading each request body to the end
/// and answering 202, with no parsing, no Kafka and no validation. Ingest's throughput as a share of this
/// says how much of the machine the pipeline's own work costs.
/// </summary>
public static class BareKestrel
{
    public static async Task<int> RunAsync(LoadOptions options, CancellationToken cancellation)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{options.BarePort}");
        var app = builder.Build();
        var buffer = new byte[64 * 1024];
        app.MapPost("/v1/events", async (HttpRequest request) =>
        {
            while (await request.Body.ReadAsync(buffer) > 0)
            {
                // drain: a real endpoint has to receive the whole body too
            }

            return Results.StatusCode(StatusCodes.Status202Accepted);
        });
        Console.WriteLine($"bare: Kestrel answering 202 on http://127.0.0.1:{options.BarePort}/v1/events; Ctrl-C stops");
        await app.RunAsync(cancellation);
        return 0;
    }
}
