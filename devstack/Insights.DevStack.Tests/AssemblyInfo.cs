using Insights.DevStack.Testing;

// One dev stack process for the whole test run; every test gets its own database or topics.
[assembly: AssemblyFixture(typeof(DevStackFixture))]
