using System.Text.Json.Nodes;

namespace Insights.Deploy.Tests;

/// <summary>The schema packages from npm (deploy/lint/fetch-linters.sh, cached) and the Kubernetes validator run on them.</summary>
internal static class Linters
{
    private static readonly Lazy<string> ModulesFolder = new(() =>
    {
        var (exit, output) = Repository.Run("bash", "deploy/lint/fetch-linters.sh");
        Assert.True(exit == 0, $"deploy/lint/fetch-linters.sh failed:\n{output}");
        return Path.Combine(output.Trim().Split('\n')[^1], "node_modules");
    });

    public static string Modules => ModulesFolder.Value;

    /// <summary>Runs deploy/lint/validate-kubernetes.mjs over <c>[{source, object}]</c>; its exit code and report.</summary>
    public static (int ExitCode, string Output) ValidateKubernetes(JsonArray objects)
    {
        var input = Path.GetTempFileName();
        try
        {
            File.WriteAllText(input, objects.ToJsonString());
            return Repository.Run("node", Repository.PathOf("deploy/lint/validate-kubernetes.mjs"), Modules, input);
        }
        finally
        {
            File.Delete(input);
        }
    }
}
