using Insights.ControlPlane.Tests.Support;

[assembly: AssemblyFixture(typeof(PostgresServer))]
