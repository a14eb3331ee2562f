using System.Data.Common;
using Microsoft.Extensions.Options;
using Spectre.Console.Cli;

namespace Insights.ControlPlane.Cli;

/// <summary>The CLI's exit codes, for scripts.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The command could not do what was asked (unknown id, name taken, invalid value); the message names the fix.</summary>
    public const int Failed = 1;

    /// <summary>The command line itself is wrong (unknown command or option, missing argument).</summary>
    public const int Usage = 2;

    /// <summary>The store is unreachable, misconfigured or not initialised.</summary>
    public const int StoreUnavailable = 3;

    /// <summary>A service the command needs (ingest, Kafka) stayed unreachable; run the same command again once it is up.</summary>
    public const int Unavailable = 4;

    /// <summary>The command finished, but some input was skipped (an import's refused lines, listed on stderr).</summary>
    public const int Skipped = 5;
}

/// <summary>A refusal with the sentence that tells the operator what to do instead.</summary>
public sealed class AdminException(string message, int exitCode = ExitCodes.Failed) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Every error leaves through here, once: one line on stderr starting with <c>error:</c>, and an exit code.</summary>
internal static class AdminErrors
{
    public static int Handle(Exception exception, ITypeResolver? resolver)
    {
        var (message, code) = exception switch
        {
            AdminException e => (e.Message, e.ExitCode),
            ControlPlaneException e => (e.Message, ExitCodes.Failed),
            OptionsValidationException e => ($"invalid settings: {e.Message}", ExitCodes.StoreUnavailable),
            DbException e => ($"cannot use the control-plane store: {e.Message}; check ControlPlane:Provider and ControlPlane:ConnectionString", ExitCodes.StoreUnavailable),
            CommandAppException e => ($"{e.Message} (see insights-admin --help)", ExitCodes.Usage),
            _ => ($"unexpected failure: {exception}", ExitCodes.Failed),
        };
        // One plain line, never wrapped: scripts and people grep for it.
        Console.Error.WriteLine($"error: {message}");
        return code;
    }
}
