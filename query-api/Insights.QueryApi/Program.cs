using Insights.QueryApi;
using Insights.QueryApi.Apis;
using Insights.ServiceDefaults;

var builder = ServiceHost.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddQueryApiServices();

var app = builder.Build();

app.UseProblemResponses();

app.MapDefaultEndpoints();
app.MapApiReference();
app.MapQueryApi();

app.Run();
