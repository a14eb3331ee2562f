using Insights.DevStack.Testing;

// One dev stack for the test run; every integration test produces to its own topic.
[assembly: AssemblyFixture(typeof(DevStackFixture))]
