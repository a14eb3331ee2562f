using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Insights.DevStack.ClickHouse;

/// <summary>
/// The URL part of a ClickHouse HTTP request: the parameters with a protocol meaning, the
/// <c>param_*</c> query parameters (bound by the engine), and everything else as settings.
/// </summary>
internal sealed partial class ClickHouseRequest
{
    // Parameters the HTTP protocol itself consumes; anything else in the URL is a setting.
    private static readonly HashSet<string> ProtocolParameters = new(StringComparer.Ordinal)
    {
        "query", "database", "default_format", "query_id", "session_id", "session_timeout", "session_check",
        "user", "password", "quota_key", "compress", "decompress", "buffer_size", "wait_end_of_query",
        "enable_http_compression", "http_native_compression_disable_checksumming_on_decompress", "stacktrace",
    };

    public string? Query { get; private init; }

    public string? Database { get; private init; }

    public string DefaultFormat { get; private init; } = "TabSeparated";

    public string QueryId { get; private init; } = Guid.NewGuid().ToString();

    public string? SessionId { get; private init; }

    public TimeSpan SessionTimeout { get; private init; } = TimeSpan.FromSeconds(60);

    public bool CompressResponse { get; private init; }

    public string? User { get; private init; }

    public string? Password { get; private init; }

    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; private init; } = [];

    public IReadOnlyList<KeyValuePair<string, string>> Settings { get; private init; } = [];

    public static ClickHouseRequest From(HttpRequest request)
    {
        var parameters = new List<KeyValuePair<string, string>>();
        var settings = new List<KeyValuePair<string, string>>();
        foreach (var (key, values) in request.Query)
        {
            var value = values.ToString();
            if (key.StartsWith("param_", StringComparison.Ordinal) && key.Length > 6)
            {
                parameters.Add(KeyValuePair.Create(key[6..], value));
            }
            else if (!ProtocolParameters.Contains(key))
            {
                if (!SettingName().IsMatch(key))
                {
                    throw new ChdbException(115, $"Code: 115. DB::Exception: Unknown setting '{key}'. (UNKNOWN_SETTING)");
                }

                settings.Add(KeyValuePair.Create(key, value));
            }
        }

        var (user, password) = Credentials(request);
        var query = request.Query;
        return new ClickHouseRequest
        {
            Query = query.TryGetValue("query", out var q) ? q.ToString() : null,
            Database = NonEmpty(query["database"]) ?? NonEmpty(request.Headers["X-ClickHouse-Database"]),
            DefaultFormat = NonEmpty(query["default_format"]) ?? NonEmpty(request.Headers["X-ClickHouse-Format"]) ?? "TabSeparated",
            QueryId = NonEmpty(query["query_id"]) ?? Guid.NewGuid().ToString(),
            SessionId = NonEmpty(query["session_id"]),
            SessionTimeout = int.TryParse(query["session_timeout"], out var seconds) && seconds > 0
                ? TimeSpan.FromSeconds(Math.Min(seconds, 3600))
                : TimeSpan.FromSeconds(60),
            CompressResponse = query["enable_http_compression"].ToString() is "1" or "true",
            User = user,
            Password = password,
            Parameters = parameters,
            Settings = settings,
        };
    }

    /// <summary>SET statements for the request's settings. Names are checked against the identifier grammar
    /// and values sent as quoted literals (ClickHouse converts a string literal to the setting's type).</summary>
    public IEnumerable<string> SettingStatements() =>
        Settings.Select(s => $"SET {s.Key} = '{EscapeLiteral(s.Value)}'");

    public static string QuoteIdentifier(string name) => "`" + name.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("`", "\\`", StringComparison.Ordinal) + "`";

    private static string EscapeLiteral(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal);

    private static (string? User, string? Password) Credentials(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                return colon < 0 ? (decoded, "") : (decoded[..colon], decoded[(colon + 1)..]);
            }
            catch (FormatException)
            {
                throw new ChdbException(516, "Code: 516. DB::Exception: Malformed Basic authorization header. (AUTHENTICATION_FAILED)");
            }
        }

        return (NonEmpty(request.Headers["X-ClickHouse-User"]) ?? NonEmpty(request.Query["user"]),
            NonEmpty(request.Headers["X-ClickHouse-Key"]) ?? NonEmpty(request.Query["password"]));
    }

    private static string? NonEmpty(Microsoft.Extensions.Primitives.StringValues value) =>
        string.IsNullOrEmpty(value.ToString()) ? null : value.ToString();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_.]{0,127}$")]
    private static partial Regex SettingName();
}
