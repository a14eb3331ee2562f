using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Insights.Ingest.Masking;

/// <summary>
/// Free-form JSON (track properties, identify traits, order items) without card numbers or e-mail addresses: every
/// string at any depth, property names included, has its card numbers masked and its addresses replaced by
/// <c>[email]</c>, and a property named like an e-mail address (<c>email</c>, <c>e-mail</c>, <c>mail</c>,
/// <c>customerEmail</c>, <c>email_address</c>, ...) that holds text or a structure is dropped.
/// </summary>
/// <remarks>
/// Dropping an e-mail-named property rather than writing <c>[email]</c> into it: what such a property says is the
/// address, so nothing useful is left once it is masked, and identify has always left its <c>email</c> trait out (the
/// hash is the join key); <c>"newsletter": "[email]"</c> elsewhere is kept masked because the site's own name for the
/// field is information. Numbers are never masked: cards people type arrive as text, while numeric values are amounts,
/// counts and platform ids (a 13-digit Shopify id passes the Luhn check one time in ten).
/// <para>This is the hot path: the raw UTF-8 is scanned once, without decoding or allocating, for anything that could
/// need a change (an '@', a run of 13 or more digits inside a string, "mail", a \u escape); only then are the strings
/// read, and the JSON is rewritten only when one of them actually changes.</para>
/// </remarks>
public static class PropertiesScrubber
{
    private const int MinCardDigits = 13;

    // Relaxed escaping keeps non-ASCII text as it was sent (the stored JSON is never embedded in HTML).
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The element with personal data removed, when anything had to change.</summary>
    public static bool TryScrub(JsonElement properties, out JsonElement scrubbed)
    {
        scrubbed = properties;
        var raw = JsonMarshal.GetRawUtf8Value(properties);
        if (!MightHoldPersonalData(raw) || !NeedsChange(properties))
        {
            return false;
        }

        var buffer = new ArrayBufferWriter<byte>(raw.Length);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(properties, writer);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        scrubbed = document.RootElement.Clone();
        return true;
    }

    /// <summary>
    /// Whether a property with this name holds an e-mail address: the name, lower-cased and without '-', '_', '.' or
    /// spaces, is <c>mail</c> or <c>mailaddress</c> or ends in <c>email</c> or <c>emailaddress</c>.
    /// </summary>
    public static bool IsEmailName(ReadOnlySpan<char> name)
    {
        Span<char> folded = stackalloc char[64];
        var n = 0;
        foreach (var c in name)
        {
            if (c is '-' or '_' or '.' or ' ')
            {
                continue;
            }

            if (n == folded.Length)
            {
                return false;
            }

            folded[n++] = char.ToLowerInvariant(c);
        }

        ReadOnlySpan<char> key = folded[..n];
        return key is "mail" or "mailaddress" || key.EndsWith("email", StringComparison.Ordinal) || key.EndsWith("emailaddress", StringComparison.Ordinal);
    }

    /// <summary>
    /// A conservative look at raw JSON: false only when no string in it can hold a card number or an e-mail address,
    /// and no name can be an e-mail property's. Linear, allocation-free; escapes other than \u are separators.
    /// </summary>
    internal static bool MightHoldPersonalData(ReadOnlySpan<byte> json)
    {
        var inString = false;
        var digits = 0;
        for (var i = 0; i < json.Length; i++)
        {
            var b = json[i];
            if (!inString)
            {
                if (b == '"')
                {
                    inString = true;
                    digits = 0;
                }

                continue;
            }

            switch (b)
            {
                case (byte)'"':
                    inString = false;
                    continue;
                case (byte)'@':
                    return true;
                case (byte)'\\':
                    // \u can spell any character (a digit, '@'); \n, \t, \" and the like only separate.
                    if (i + 1 < json.Length && json[i + 1] == 'u')
                    {
                        return true;
                    }

                    i++;
                    continue;
                case >= (byte)'0' and <= (byte)'9':
                    if (++digits >= MinCardDigits)
                    {
                        return true;
                    }

                    continue;
                case (byte)' ' or (byte)'-' or (byte)'.':
                    continue;
                case (byte)'m' or (byte)'M':
                    if (i + 3 < json.Length && Ascii.EqualsIgnoreCase(json.Slice(i + 1, 3), "ail"u8))
                    {
                        return true;
                    }

                    digits = 0;
                    continue;
                case < 0x80:
                    digits = 0;
                    continue;
            }

            // A non-ASCII character: an Arabic-Indic or full-width digit counts, a Unicode space separates.
            Rune.DecodeFromUtf8(json[i..], out var rune, out var consumed);
            i += Math.Max(consumed, 1) - 1;
            if (rune.IsBmp && CardNumberMasker.IsDigit((char)rune.Value))
            {
                if (++digits >= MinCardDigits)
                {
                    return true;
                }
            }
            else if (!rune.IsBmp || !CardNumberMasker.IsSeparator((char)rune.Value))
            {
                digits = 0;
            }
        }

        return false;
    }

    private static bool NeedsChange(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (Drops(property) || Changes(property.Name) || NeedsChange(property.Value))
                    {
                        return true;
                    }
                }

                return false;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (NeedsChange(item))
                    {
                        return true;
                    }
                }

                return false;
            case JsonValueKind.String:
                return Changes(element.GetString()!);
            default:
                return false;
        }
    }

    private static bool Changes(string text) => !ReferenceEquals(PersonalDataPolicy.FreeText(text), text);

    // A flag or a count under an e-mail name ("email_verified": true is named otherwise, but "has_email": true is not) holds no address.
    private static bool Drops(JsonProperty property) =>
        (property.Value.ValueKind is JsonValueKind.String or JsonValueKind.Object or JsonValueKind.Array) && IsEmailName(property.Name);

    private static void Write(JsonElement element, Utf8JsonWriter writer)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject())
                {
                    if (!Drops(property))
                    {
                        writer.WritePropertyName(PersonalDataPolicy.FreeText(property.Name)!);
                        Write(property.Value, writer);
                    }
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(item, writer);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                var text = element.GetString()!;
                var masked = PersonalDataPolicy.FreeText(text)!;
                if (ReferenceEquals(masked, text))
                {
                    element.WriteTo(writer);
                }
                else
                {
                    writer.WriteStringValue(masked);
                }

                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
