using Insights.Ingest;
using Insights.Ingest.Apis;
using Insights.ServiceDefaults;

var builder = ServiceHost.CreateBuilder(args);

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
