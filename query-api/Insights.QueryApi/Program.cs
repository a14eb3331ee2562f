using Insights.QueryApi;
using Insights.QueryApi.Accounts;
using Insights.QueryApi.Apis;
using Insights.QueryApi.Live.Alerts;
using Insights.QueryApi.Live.Invitations;
using Insights.ServiceDefaults;

var builder = ServiceHost.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddQueryApiServices();
builder.AddAccounts();

var app = builder.Build();

app.UseProblemResponses();
app.UseAccounts();

app.MapDefaultEndpoints();
app.MapApiReference();
app.MapQueryApi();
app.MapAuthApi();
app.MapManagementApi();
app.MapInvitationApi();
app.MapAlertApi();

app.Run();
