using Insights.ConfigReference;

// dotnet run --project tools/Insights.ConfigReference [-- path]: writes the configuration reference (default
// docs/configuration.md under the repository root).
var path = args.Length > 0 ? Path.GetFullPath(args[0]) : Path.Combine(RepositoryRoot.Find(), ReferencePage.RelativePath);
File.WriteAllText(path, ReferencePage.Render());
Console.WriteLine($"wrote {path}");
