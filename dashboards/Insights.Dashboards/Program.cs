using Insights.Dashboards;
using Insights.ServiceDefaults;

var builder = ServiceHost.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddDashboards();

var app = builder.Build();

app.UseDashboards();

app.MapDefaultEndpoints();
app.MapSignInEndpoints();
app.MapDashboardPages();

app.Run();

/// <summary>The entry point, visible to the browser tests' in-process host.</summary>
public partial class Program;
