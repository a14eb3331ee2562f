namespace Insights.Ingest.Parsing;

/// <summary>The five UTM campaign parameters.</summary>
public readonly record struct UtmParameters(string? Source, string? Medium, string? Campaign, string? Term, string? Content)
{
    /// <summary>
    /// The <c>utm_*</c> parameters of a page URL's query (the first occurrence of each wins, values are
    /// percent-decoded and '+' is a space, as browsers encode forms). URLs without "utm_" cost one search.
    /// </summary>
    public static UtmParameters FromUrl(string? url)
    {
        if (url is null || !url.Contains("utm_", StringComparison.Ordinal))
        {
            return default;
        }

        var query = url.AsSpan();
        var fragment = query.IndexOf('#');
        if (fragment >= 0)
        {
            query = query[..fragment];
        }

        var start = query.IndexOf('?');
        if (start < 0)
        {
            return default;
        }

        query = query[(start + 1)..];

        string? source = null, medium = null, campaign = null, term = null, content = null;
        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            if (!pair.StartsWith("utm_", StringComparison.Ordinal))
            {
                continue;
            }

            var equals = pair.IndexOf('=');
            var name = equals < 0 ? pair : pair[..equals];
            var raw = equals < 0 ? [] : pair[(equals + 1)..];
            switch (name)
            {
                case "utm_source": source ??= Decode(raw); break;
                case "utm_medium": medium ??= Decode(raw); break;
                case "utm_campaign": campaign ??= Decode(raw); break;
                case "utm_term": term ??= Decode(raw); break;
                case "utm_content": content ??= Decode(raw); break;
            }
        }

        return new UtmParameters(source, medium, campaign, term, content);
    }

    private static string? Decode(ReadOnlySpan<char> raw)
    {
        if (raw.IsEmpty)
        {
            return null;
        }

        var text = raw.Contains('+') ? raw.ToString().Replace('+', ' ') : raw.ToString();
        // A malformed escape ("%zz") stays as typed: UnescapeDataString leaves what it cannot decode.
        return text.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(text) : text;
    }
}
