using Insights.Ingest.BrowserTests;

// One dev stack, one ingest, one site server and one Chromium for the run; every test opens its own browser context
// and pages under its own path, and picks its events off the shared topic by that path.
[assembly: AssemblyFixture(typeof(TrackerStack))]
