using Insights.DevStack.Testing;

[assembly: AssemblyFixture(typeof(DevStackFixture))]
