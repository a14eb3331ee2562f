using Insights.QueryApi;
using Insights.QueryApi.Apis;
using Insights.ServiceDefaults;

// Settings files sit beside the binary, so `dotnet path/to/Insights.QueryApi.dll` works from any directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

builder.AddServiceDefaults();
builder.AddQueryApiServices();

var app = builder.Build();

app.UseProblemResponses();

app.MapDefaultEndpoints();
app.MapApiReference();
app.MapQueryApi();

app.Run();
