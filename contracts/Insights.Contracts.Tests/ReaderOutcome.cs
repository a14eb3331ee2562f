using System.Text;
using System.Text.Json;

namespace Insights.Contracts.Tests;

/// <summary>What a contract reader made of a value, comparable between two readers: "refused", "null", or the value it
/// read as the contract writes it (every field, in the contract's order).</summary>
internal static class ReaderOutcome
{
    public static string Of<T>(Func<T?> read, Func<T, byte[]> write)
        where T : class
    {
        T? value;
        try
        {
            value = read();
        }
        catch (Exception error) when (error is JsonException or InvalidOperationException)
        {
            return "refused";
        }

        return value is null ? "null" : Encoding.UTF8.GetString(write(value));
    }
}
