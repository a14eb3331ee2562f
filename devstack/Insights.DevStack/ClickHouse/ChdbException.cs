using System.Globalization;
using System.Text.RegularExpressions;

namespace Insights.DevStack.ClickHouse;

/// <summary>A ClickHouse error with its real code, as the HTTP interface reports it.</summary>
internal sealed partial class ChdbException(int code, string message) : Exception(message)
{
    public int Code { get; } = code;

    public static ChdbException FromMessage(string message)
    {
        var match = CodePattern().Match(message);
        var code = match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 1001;
        var text = message.Trim();
        return new ChdbException(code, match.Success ? text : $"Code: {code}. DB::Exception: {text}");
    }

    public static ChdbException Syntax(string detail) =>
        new(62, $"Code: 62. DB::Exception: {detail}. (SYNTAX_ERROR)");

    [GeneratedRegex(@"Code:\s*(\d+)")]
    private static partial Regex CodePattern();
}
