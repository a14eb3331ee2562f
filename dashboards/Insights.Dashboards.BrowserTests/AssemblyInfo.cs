using Insights.Dashboards.BrowserTests;

// One whole system (scripts/run.sh) for every test: starting it costs ~30 s; tests use their own visitors and ranges.
[assembly: AssemblyFixture(typeof(DashboardSystem))]
