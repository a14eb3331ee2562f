using Insights.DevStack;

// The single-machine dev stack: a real ClickHouse engine behind ClickHouse's HTTP interface and a
// Kafka-protocol broker, on loopback, in one process. Production points the services elsewhere.
var builder = WebApplication.CreateSlimBuilder(args);
builder.AddDevStackConfiguration(args);
builder.AddDevStackEngines();

var app = builder.Build();
app.MapDevStackEndpoints();

await app.RunDevStackAsync();
return 0;
