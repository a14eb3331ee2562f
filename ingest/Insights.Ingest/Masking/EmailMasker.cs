namespace Insights.Ingest.Masking;

/// <summary>
/// Replaces e-mail addresses in free text with <c>[email]</c>. A linear scan from each '@' outwards rather than a
/// regular expression: chat text is client input, and a backtracking pattern over a long run of name characters
/// would be quadratic.
/// </summary>
public static class EmailMasker
{
    public const string Replacement = "[email]";

    public static string Mask(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at < 0)
        {
            return text;
        }

        System.Text.StringBuilder? masked = null;
        var copied = 0;
        while (at >= 0)
        {
            var start = at;
            while (start > copied && IsLocalChar(text[start - 1]))
            {
                start--;
            }

            var end = DomainEnd(text, at + 1);
            if (start < at && end > at + 1)
            {
                masked ??= new System.Text.StringBuilder(text.Length);
                masked.Append(text, copied, start - copied).Append(Replacement);
                copied = end;
            }

            at = text.IndexOf('@', Math.Max(at + 1, copied));
        }

        return masked is null ? text : masked.Append(text, copied, text.Length - copied).ToString();
    }

    /// <summary>Whether <paramref name="text"/>, trimmed, is one e-mail address and nothing else.</summary>
    public static bool IsAddress(ReadOnlySpan<char> text)
    {
        text = text.Trim();
        var at = text.IndexOf('@');
        if (at <= 0 || at == text.Length - 1)
        {
            return false;
        }

        foreach (var c in text[..at])
        {
            if (!IsLocalChar(c))
            {
                return false;
            }
        }

        return DomainEnd(text, at + 1) == text.Length;
    }

    private static bool IsLocalChar(char c) => char.IsLetterOrDigit(c) || c is '.' or '_' or '%' or '+' or '-' or '\'';

    /// <summary>The end of a domain with at least one dot and a top-level label of two or more letters, or <paramref name="start"/>.</summary>
    private static int DomainEnd(ReadOnlySpan<char> text, int start)
    {
        var end = start;
        while (end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] is '-' or '.'))
        {
            end++;
        }

        // A sentence's full stop after the address is not part of it.
        while (end > start && text[end - 1] is '.' or '-')
        {
            end--;
        }

        var domain = text.Slice(start, end - start);
        var lastDot = domain.LastIndexOf('.');
        if (lastDot <= 0 || domain.Contains("..", StringComparison.Ordinal) || domain.Length - lastDot - 1 < 2)
        {
            return start;
        }

        foreach (var c in domain[(lastDot + 1)..])
        {
            if (!char.IsLetter(c))
            {
                return start;
            }
        }

        return end;
    }
}
