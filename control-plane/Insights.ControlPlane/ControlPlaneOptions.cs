using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Insights.ControlPlane;

/// <summary>Which relational engine holds the control plane.</summary>
public enum ControlPlaneProvider
{
    /// <summary>An embedded file in <see cref="ControlPlaneOptions.DataDirectory"/>: zero set-up, one machine.</summary>
    Sqlite = 0,

    /// <summary>A PostgreSQL server: several machines share one store.</summary>
    PostgreSql = 1,
}

/// <summary>Where the control plane (sites, keys, people) is stored and how fast its changes reach this service (section <c>ControlPlane</c>).</summary>
public sealed class ControlPlaneOptions
{
    public const string SectionName = "ControlPlane";

    /// <summary>
    /// <c>Sqlite</c> (default): a file beside the service, nothing to run, but only the processes of one machine can share
    /// it. <c>PostgreSql</c>: a server every instance reaches; needs <see cref="ConnectionString"/>.
    /// </summary>
    public ControlPlaneProvider Provider { get; set; } = ControlPlaneProvider.Sqlite;

    /// <summary>
    /// The provider's connection string. Unset with <c>Sqlite</c> means the file <c>control-plane.db</c> in
    /// <see cref="DataDirectory"/>; required with <c>PostgreSql</c> (<c>Host=...;Database=...;Username=...;Password=...</c>).
    /// </summary>
    [DataType(DataType.Password)]
    public string? ConnectionString { get; set; }

    /// <summary>Folder of the SQLite file, relative to the content root unless absolute; created when missing.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// How often this service asks the store whether sites or keys changed (one tiny query). Shorter makes a revoked
    /// key stop working sooner and costs more queries; at most 5 s, the promise for revocation.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:05")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Bring the schema up to date at start-up (safe with several instances: one takes the migration lock, the others
    /// wait). Off for a deployment that migrates in a separate step: the service then waits until the schema is current.
    /// </summary>
    public bool ApplyMigrations { get; set; } = true;

    /// <summary>The SQLite file's folder as an absolute path.</summary>
    public string DataDirectoryPath(string contentRoot) => Path.GetFullPath(DataDirectory, contentRoot);
}

/// <summary>Rules that span settings, named by their configuration keys.</summary>
internal sealed class ControlPlaneOptionsValidator : IValidateOptions<ControlPlaneOptions>
{
    public ValidateOptionsResult Validate(string? name, ControlPlaneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var s = ControlPlaneOptions.SectionName;
        if (!Enum.IsDefined(options.Provider))
        {
            return ValidateOptionsResult.Fail($"{s}:Provider: must be Sqlite or PostgreSql");
        }

        return options.Provider == ControlPlaneProvider.PostgreSql && string.IsNullOrWhiteSpace(options.ConnectionString)
            ? ValidateOptionsResult.Fail($"{s}:ConnectionString: the PostgreSql provider needs a connection string (Host=...;Database=...;Username=...)")
            : ValidateOptionsResult.Success;
    }
}
