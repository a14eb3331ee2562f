using BenchmarkDotNet.Running;
using Insights.Benchmarks;

// dotnet run -c Release --project benchmarks/Insights.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(SampleEvents).Assembly).Run(args);
