using System.Text;

namespace Insights.Ingest.Masking;

/// <summary>
/// Removes query parameters a site must not keep from a URL (a page URL or a referrer): those on the site's strip list
/// and any whose name or value holds an e-mail address. Everything else stays byte for byte, in order: campaign
/// (<c>utm_*</c>) and click-id parameters survive, so sessions are attributed as before. The fragment is read the
/// same way when it carries parameters (<c>#access_token=...</c> of an OAuth redirect, <c>#/reset?token=...</c> of
/// a single-page app).
/// </summary>
public static class UrlScrubber
{
    /// <summary>The URL without the parameters it may not keep; the same instance when there are none.</summary>
    public static string Strip(string url, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(names);
        var hash = url.IndexOf('#', StringComparison.Ordinal);
        var query = url.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0 && (hash < 0 || query < hash))
        {
            url = StripSegment(url, query + 1, hash < 0 ? url.Length : hash, names);
            hash = url.IndexOf('#', StringComparison.Ordinal);
        }

        if (hash >= 0)
        {
            // A fragment's own query ("#/path?a=b"), else the fragment itself when it reads as parameters ("#a=b&c=d").
            var inner = url.IndexOf('?', hash + 1);
            var start = inner >= 0 ? inner + 1 : hash + 1;
            if (inner >= 0 || url.AsSpan(start).Contains('='))
            {
                url = StripSegment(url, start, url.Length, names);
            }
        }

        return url;
    }

    /// <summary>The URL with the parameters in [start, end) that must go removed; '?' or '#' goes too when none is left.</summary>
    private static string StripSegment(string url, int start, int end, IReadOnlyList<string> names)
    {
        StringBuilder? kept = null;
        var segment = url.AsSpan(start, end - start);
        var offset = 0;
        var empty = true;
        foreach (var range in segment.Split('&'))
        {
            var pair = segment[range];
            if (kept is null)
            {
                if (MustGo(pair, names))
                {
                    // The first removal copies what came before it (without its '&'): all of that is kept as it was.
                    kept = new StringBuilder(url.Length).Append(url, 0, start).Append(segment[..Math.Max(0, offset - 1)]);
                    empty = offset == 0;
                }
            }
            else if (!pair.IsEmpty && !MustGo(pair, names))
            {
                kept.Append(empty ? "" : "&").Append(pair);
                empty = false;
            }

            offset = range.End.GetOffset(segment.Length) + 1;
        }

        if (kept is null)
        {
            return url;
        }

        if (empty)
        {
            // Nothing left: no dangling '?' or '#'.
            kept.Length = start - 1;
        }

        return kept.Append(url, end, url.Length - end).ToString();
    }

    private static bool MustGo(ReadOnlySpan<char> pair, IReadOnlyList<string> names)
    {
        if (pair.IsEmpty)
        {
            return false;
        }

        var equals = pair.IndexOf('=');
        var name = equals < 0 ? pair : pair[..equals];
        if (name.ContainsAny('%', '+'))
        {
            name = Decode(name);
        }

        // Indexed, not foreach: an interface's enumerator would be allocated for every parameter of every URL.
        for (var i = 0; i < names.Count; i++)
        {
            var listed = names[i];
            if (listed.Length == name.Length && name.Equals(listed, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        // An address may be percent-encoded (%40); only then is the pair decoded, so a plain URL allocates nothing.
        return (pair.Contains('@') || pair.Contains("%40", StringComparison.OrdinalIgnoreCase)) && ContainsAddress(pair);
    }

    private static bool ContainsAddress(ReadOnlySpan<char> pair)
    {
        var decoded = Decode(pair);
        return !ReferenceEquals(EmailMasker.Mask(decoded), decoded);
    }

    // As browsers encode forms: '+' is a space; a malformed escape stays as it was typed.
    private static string Decode(ReadOnlySpan<char> raw) => Uri.UnescapeDataString(raw.ToString().Replace('+', ' '));
}
