using Insights.ControlPlane.Tests.Support;
using Insights.DevStack.Testing;

// One dev stack and one PostgreSQL server for the run; the one test starts its own instances on them.
[assembly: AssemblyFixture(typeof(DevStackFixture))]
[assembly: AssemblyFixture(typeof(PostgresServer))]
