using System.Buffers.Text;
using System.Text;

namespace Insights.Ingest.Apis;

/// <summary>Where a sender may put its key, in the order they are looked at.</summary>
internal static class WriteKeys
{
    public const string HeaderName = "X-Insights-Key";
    public const string QueryName = "key";

    /// <summary>
    /// <c>X-Insights-Key</c>; else Segment-style Basic auth with the key as user name (the password is ignored); else
    /// <c>?key=</c>, for <c>navigator.sendBeacon</c>, which cannot set headers (only a public write key may ride there).
    /// Null when none is present.
    /// </summary>
    public static string? Read(HttpRequest request, out bool inUrl)
    {
        inUrl = false;
        if (request.Headers[HeaderName] is [{ Length: > 0 } header])
        {
            return header;
        }

        if (request.Headers.Authorization is [{ } authorization]
            && authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)
            && BasicUser(authorization.AsSpan(6).Trim()) is { Length: > 0 } user)
        {
            return user;
        }

        var query = InUrl(request);
        inUrl = query is not null;
        return query;
    }

    /// <summary>The key in <c>?key=</c>, whether or not a header carries one too: a secret there is exposed either way.</summary>
    public static string? InUrl(HttpRequest request) => request.Query[QueryName] is [{ Length: > 0 } query] ? query : null;

    /// <summary>
    /// Segment's <c>"writeKey"</c> at the top level of a JSON body (its browser SDK sends the key there), or null. Reads
    /// only the top level, skipping every value; a body that is not a JSON object has none.
    /// </summary>
    public static string? InBody(ReadOnlySpan<byte> json)
    {
        var reader = new System.Text.Json.Utf8JsonReader(json.StartsWith("\uFEFF"u8) ? json[3..] : json,
            new System.Text.Json.JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != System.Text.Json.JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
            {
                var isKey = reader.ValueTextEquals("writeKey"u8);
                reader.Read();
                if (isKey)
                {
                    return reader.TokenType == System.Text.Json.JsonTokenType.String && reader.GetString() is { Length: > 0 and <= 1024 } key ? key : null;
                }

                reader.Skip();
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // Malformed JSON has no key; the sender learns about the key first (401), then about the JSON.
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape in the key's string.
        }

        return null;
    }

    private static string? BasicUser(ReadOnlySpan<char> encoded)
    {
        if (encoded.Length > 1024)
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[Base64.GetMaxDecodedFromUtf8Length(encoded.Length)];
        Span<byte> ascii = stackalloc byte[encoded.Length];
        if (Encoding.ASCII.GetBytes(encoded, ascii) != encoded.Length
            || Base64.DecodeFromUtf8(ascii, bytes, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            return null;
        }

        var credentials = bytes[..written];
        var colon = credentials.IndexOf((byte)':');
        var user = colon < 0 ? credentials : credentials[..colon];
        return System.Text.Unicode.Utf8.IsValid(user) ? Encoding.UTF8.GetString(user) : null;
    }
}
