namespace Insights.ConfigReference;

internal static class RepositoryRoot
{
    /// <summary>The directory holding <c>Insights.sln</c>, searched upwards from the working directory and then from
    /// the binary's directory (the build puts it under <c>artifacts/</c> in the repository).</summary>
    public static string Find()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Insights.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("Insights.sln not found above the working directory or the binary; pass the output path.");
    }
}
