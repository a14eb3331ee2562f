using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using static Insights.Ingest.Parsing.FieldReaders;

namespace Insights.Ingest.Parsing;

/// <summary>
/// Values whose rules the API and the webhooks share (money, currencies, channels, authors), so a platform's order
/// obeys the same rules as a client's.
/// </summary>
internal static class EventValues
{
    /// <summary>Largest amount accepted: a trillion in any currency is a typo or an attack, not an order.</summary>
    internal const decimal MaxAmount = 1_000_000_000_000m;

    /// <summary>A money amount: a JSON number or a numeric string (Shopify and WooCommerce send "409.94"), 0 or more.</summary>
    internal static bool TryAmount(JsonElement value, string field, out decimal? amount, out FieldFailure failure)
    {
        failure = default;
        amount = null;
        decimal parsed;
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return true;
            case JsonValueKind.Number when value.TryGetDecimal(out parsed):
                break;
            case JsonValueKind.String when TryParseAmount(value.GetString(), allowNegative: false, out parsed):
                break;
            default:
                return Fail(out failure, TypeRejectReasons.InvalidAmount, $"\"{field}\" must be a number of 0 or more (or a numeric string), below {MaxAmount:0}");
        }

        if (parsed is < 0 or >= MaxAmount)
        {
            return Fail(out failure, TypeRejectReasons.InvalidAmount, $"\"{field}\" must be a number of 0 or more, below {MaxAmount:0}");
        }

        amount = RoundAmount(parsed);
        return true;
    }

    /// <summary>A decimal string with '.' as the point ("12.50", "-10.00" when negatives are allowed); no exponents or grouping.</summary>
    internal static bool TryParseAmount(string? text, bool allowNegative, out decimal amount)
    {
        var styles = NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite
            | (allowNegative ? NumberStyles.AllowLeadingSign : NumberStyles.None);
        return decimal.TryParse(text, styles, CultureInfo.InvariantCulture, out amount) && amount > -MaxAmount && amount < MaxAmount;
    }

    /// <summary>Four decimal places: every currency's minor unit fits, and float noise from JavaScript totals (19.990000000000002) goes.</summary>
    internal static decimal RoundAmount(decimal amount) => Math.Round(amount, 4, MidpointRounding.ToEven);

    /// <summary>The upper-case ISO 4217 code, or null when <paramref name="code"/> is not one.</summary>
    internal static string? NormalizeCurrency(string? code)
    {
        if (code is null || code.Trim() is not { Length: 3 } trimmed)
        {
            return null;
        }

        var upper = trimmed.ToUpperInvariant();
        return Currencies.TryGetValue(upper, out var known) ? known : null;
    }

    /// <summary>The channel's canonical name (aliases such as "wa", "fb_messenger" or "imessage" folded), or null when it is not a name.</summary>
    internal static string? NormalizeChannel(string channel)
    {
        var slug = channel.Trim().ToLowerInvariant().Replace(' ', '_').Replace('-', '_');
        if (slug.Length is 0 or > 32 || !IsSlug(slug) || slug.Contains('.', StringComparison.Ordinal))
        {
            return null;
        }

        return ChannelAliases.TryGetValue(slug, out var canonical) ? canonical : slug;
    }

    /// <summary>visitor, agent, bot or system (with their common synonyms), or null.</summary>
    internal static string? NormalizeAuthor(string author) => author.Trim().ToLowerInvariant() switch
    {
        "visitor" or "customer" or "user" or "client" or "contact" => MessageAuthors.Visitor,
        "agent" or "operator" or "staff" or "human" => MessageAuthors.Agent,
        "bot" or "chatbot" or "ai" or "assistant" => MessageAuthors.Bot,
        "system" => MessageAuthors.System,
        _ => null,
    };

    internal static bool IsSlug(string text)
    {
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-' or '.'))
            {
                return false;
            }
        }

        return text.Length > 0;
    }

    internal static string Truncate(string text) => text.Length <= 16 ? text : text[..16] + "…";

    private static readonly FrozenDictionary<string, string> ChannelAliases = Aliases(
        (ChatChannels.Website, ["website", "web", "widget", "chat_widget", "web_chat", "webchat", "livechat", "site"]),
        (ChatChannels.WhatsApp, ["whatsapp", "wa", "whatsapp_business"]),
        (ChatChannels.Messenger, ["messenger", "facebook", "facebook_messenger", "fb_messenger", "fb"]),
        (ChatChannels.AppleMessages, ["apple_messages", "apple_messages_for_business", "apple_business_chat", "imessage", "abc"]),
        (ChatChannels.Sms, ["sms", "text", "mms", "twilio"]),
        (ChatChannels.Email, ["email", "e_mail", "mail"]),
        ("instagram", ["instagram", "ig", "instagram_direct"]));

    private static FrozenDictionary<string, string> Aliases(params (string Channel, string[] Names)[] channels) =>
        channels.SelectMany(channel => channel.Names.Select(name => (Name: name, channel.Channel)))
            .ToFrozenDictionary(alias => alias.Name, alias => alias.Channel, StringComparer.Ordinal);

    // ISO 4217 codes in use, plus those withdrawn since 2020 (HRK, SLL, CUC, ANG, ZWL) so that replayed older orders
    // still pass. Funds, metals and testing codes (XAU, XTS, XXX, ...) are not prices.
    private static readonly FrozenDictionary<string, string> Currencies = """
        AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF
        CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL
        HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD
        MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
        RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
        TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
        """.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).ToFrozenDictionary(code => code, code => code, StringComparer.Ordinal);

}
