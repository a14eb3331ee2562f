using Insights.EndToEnd.Tests;

// One system (its own dev stack and three service processes) for the whole test run.
[assembly: AssemblyFixture(typeof(SystemFixture))]
