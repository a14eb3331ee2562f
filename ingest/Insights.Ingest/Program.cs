using Insights.Ingest;
using Insights.Ingest.Apis;
using Insights.ServiceDefaults;

// Settings files sit beside the binary, so `dotnet path/to/Insights.Ingest.dll` works from any directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

builder.AddServiceDefaults();
builder.AddIngest();

var app = builder.Build();

app.UseIngestEdge();
app.MapDefaultEndpoints();
app.MapIngestApi();
app.MapWebhooksApi();
app.MapTrackerApi();
app.MapIngestApiDocs();

app.Run();
