using System.Buffers;
using System.Globalization;
using System.Text;

namespace Insights.Ingest.Masking;

/// <summary>
/// Finds payment card numbers in free text and masks all but their last four digits, keeping the separators:
/// <c>4111 1111 1111 1111</c> becomes <c>**** **** **** 1111</c>. Pure, linear in the text's length, and
/// allocation-free when the text holds no card, which is nearly always.
/// </summary>
/// <remarks>
/// A card is 13–19 decimal digits that pass the Luhn check, written as one run or as groups the way people type and
/// paste them: 4-4-4-4, Amex 4-6-5, Diners 4-6-4, 4-4-4-4-3, 4-4-4-1. Digits are any Unicode decimal digits (ASCII,
/// Arabic-Indic ٤١١١, full-width ４１１１, Devanagari ४१११: phones type them), and the groups may be separated by up to
/// <see cref="MaxSeparatorRun"/> separator characters: spaces of any kind (no-break, narrow no-break, thin, ideographic,
/// zero-width), line breaks and tabs, dashes of any kind, and dots. Groups other than the last have 4–6 digits, which
/// is what keeps dates (2025-01-31), phone numbers (+1 800 852 9001) and long order numbers with 7-digit parts
/// (112-7614433-5589825) out; so does the first digit (cards start with 2–6) and the Luhn check, and a valid IBAN is
/// never a card. The cost of a false positive is a masked number; the cost of a false negative is a card number in
/// storage, so ambiguity masks. Digits outside the Basic Multilingual Plane (mathematical bold digits) are not read:
/// nobody types a card with them by accident.
/// </remarks>
public static class CardNumberMasker
{
    public const char MaskCharacter = '*';

    /// <summary>Separator characters allowed between two groups: "\r\n", " - " and ". " are how people break numbers.</summary>
    public const int MaxSeparatorRun = 3;

    private const int MinDigits = 13;
    private const int MaxDigits = 19;
    private const int MinGroup = 4;
    private const int MaxGroup = 6;

    // ARABIC-INDIC DIGIT ZERO: no decimal digit lies between '9' and it.
    private const char FirstNonAsciiDigit = '\u0660';

    /// <summary>Every BMP character that is a decimal digit (Unicode category Nd): one vectorized search finds the first.</summary>
    private static readonly SearchValues<char> Digits = SearchValues.Create(AllDecimalDigits());

    /// <summary>The text with every card number masked; the same instance when there is none.</summary>
    public static string Mask(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.AsSpan().IndexOfAny(Digits) < 0)
        {
            return text;
        }

        char[]? masked = null;
        var position = 0;
        while (position < text.Length)
        {
            var start = text.AsSpan(position).IndexOfAny(Digits);
            if (start < 0)
            {
                break;
            }

            start += position;
            var end = RunEnd(text, start);
            if (end - start >= MinDigits && !Iban.Covers(text, start))
            {
                MaskRun(text, start, end, ref masked);
            }

            position = end;
        }

        return masked is null ? text : new string(masked);
    }

    /// <summary>Whether <paramref name="c"/> is a decimal digit of any script (in the Basic Multilingual Plane).</summary>
    public static bool IsDigit(char c) => char.IsAsciiDigit(c) || (c >= FirstNonAsciiDigit && char.IsDigit(c));

    /// <summary>
    /// Whether <paramref name="c"/> may stand between the groups of a card number: a space of any kind, a line break,
    /// a dash of any kind, a dot, or an invisible joiner that copy and paste leaves behind.
    /// </summary>
    public static bool IsSeparator(char c) => c switch
    {
        ' ' or '-' or '.' => true,
        < '\u0080' => c is '\t' or '\n' or '\r' or '\v' or '\f',
        // Hyphen, non-breaking hyphen, figure dash, en and em dash, minus sign, small and full-width hyphen-minus, full-width full stop.
        '\u2010' or '\u2011' or '\u2012' or '\u2013' or '\u2014' or '\u2212' or '\uFE58' or '\uFE63' or '\uFF0D' or '\uFF0E' => true,
        // Zero-width space, word joiner and byte-order mark: invisible, so a pasted number can hold them unseen.
        '\u200B' or '\u2060' or '\uFEFF' => true,
        // No-break (U+00A0), thin (U+2009), narrow no-break (U+202F), ideographic (U+3000) and the other Unicode spaces; line and paragraph separators.
        _ => char.IsWhiteSpace(c),
    };

    /// <summary>The Luhn (mod 10) check over the digits of <paramref name="digits"/> (any script), ignoring everything else.</summary>
    public static bool PassesLuhn(ReadOnlySpan<char> digits)
    {
        var sum = 0;
        var count = 0;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = DigitValue(digits[i]);
            if (d < 0)
            {
                continue;
            }

            if ((count & 1) == 1)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            count++;
        }

        return count > 0 && sum % 10 == 0;
    }

    // 0-9 for a decimal digit of any script, -1 otherwise.
    private static int DigitValue(char c) => char.IsAsciiDigit(c) ? c - '0' : IsDigit(c) ? CharUnicodeInfo.GetDecimalDigitValue(c) : -1;

    private static string AllDecimalDigits()
    {
        var digits = new StringBuilder();
        for (var c = 0; c <= char.MaxValue; c++)
        {
            if (!char.IsSurrogate((char)c) && char.IsDigit((char)c))
            {
                digits.Append((char)c);
            }
        }

        return digits.ToString();
    }

    /// <summary>Where the run of digit groups starting at <paramref name="start"/> ends (exclusive).</summary>
    private static int RunEnd(string text, int start)
    {
        var i = start;
        while (true)
        {
            while (i < text.Length && IsDigit(text[i]))
            {
                i++;
            }

            // A few separators followed by a digit continue the run; anything else ends it.
            var next = i;
            while (next < text.Length && next - i < MaxSeparatorRun && IsSeparator(text[next]))
            {
                next++;
            }

            if (next > i && next < text.Length && IsDigit(text[next]))
            {
                i = next;
                continue;
            }

            return i;
        }
    }

    /// <summary>
    /// Within one run, masks the longest card-shaped span starting at each group, left to right. A span starts and
    /// ends at group boundaries, so a card followed by an expiry ("4111111111111111 12/26") is still found. Each
    /// group is read from at most 19 starting groups, so the work is linear in the run's length.
    /// </summary>
    private static void MaskRun(string text, int start, int end, ref char[]? masked)
    {
        Span<(int Start, int End)> groups = stackalloc (int, int)[MaxDigits];
        var first = start;
        while (first < end)
        {
            if (!IsIssuerDigit(text[first]))
            {
                first = NextGroup(text, GroupEnd(text, first, end), end);
                continue;
            }

            // Groups from `first` while they can be a card's: at most 19 digits, and only the last group may have fewer
            // than 4 or more than 6 digits. So each group is read a bounded number of times, however hostile the run.
            var count = 0;
            var i = first;
            var digits = 0;
            while (i < end && count < groups.Length && digits < MaxDigits)
            {
                var groupStart = i;
                i = GroupEnd(text, i, end);
                groups[count++] = (groupStart, i);
                digits += i - groupStart;
                if (i - groupStart is < MinGroup or > MaxGroup)
                {
                    break;
                }

                i = NextGroup(text, i, end);
            }

            var found = LongestCard(text, groups[..count]);
            if (found > 0)
            {
                masked ??= text.ToCharArray();
                MaskSpan(masked, groups[0].Start, groups[found - 1].End);
                first = found < count ? groups[found].Start : NextGroup(text, groups[count - 1].End, end);
            }
            else
            {
                first = NextGroup(text, groups[0].End, end);
            }
        }
    }

    private static int GroupEnd(string text, int start, int end)
    {
        while (start < end && IsDigit(text[start]))
        {
            start++;
        }

        return start;
    }

    // Past the separators that follow a group (at most MaxSeparatorRun inside a run), or the end of the run.
    private static int NextGroup(string text, int groupEnd, int end)
    {
        while (groupEnd < end && !IsDigit(text[groupEnd]))
        {
            groupEnd++;
        }

        return groupEnd;
    }

    /// <summary>How many leading groups form the longest card, or 0 (all groups but the last have 4–6 digits, as collected).</summary>
    private static int LongestCard(string text, ReadOnlySpan<(int Start, int End)> groups)
    {
        var best = 0;
        var digits = 0;
        for (var n = 1; n <= groups.Length; n++)
        {
            var (groupStart, groupEnd) = groups[n - 1];
            digits += groupEnd - groupStart;
            if (digits > MaxDigits)
            {
                break;
            }

            if (digits >= MinDigits && PassesLuhn(text.AsSpan(groups[0].Start, groupEnd - groups[0].Start)))
            {
                best = n;
            }
        }

        return best;
    }

    // Card numbers start with 2 (Mastercard 2-series), 3 (Amex, Diners, JCB), 4 (Visa), 5 (Mastercard, Maestro) or
    // 6 (Discover, UnionPay, Maestro); 1, 7, 8, 9 and 0 start order, account and tracking numbers.
    private static bool IsIssuerDigit(char c) => DigitValue(c) is >= 2 and <= 6;

    private static void MaskSpan(char[] text, int start, int end)
    {
        // Keep the last four digits: enough for a person to recognise the card, never enough to use it.
        var keep = 4;
        for (var i = end - 1; i >= start; i--)
        {
            if (!IsDigit(text[i]))
            {
                continue;
            }

            if (keep > 0)
            {
                keep--;
                continue;
            }

            text[i] = MaskCharacter;
        }
    }

    /// <summary>International bank account numbers, which are long digit runs with a check of their own.</summary>
    private static class Iban
    {
        /// <summary>Whether a valid IBAN (compact or in groups of four) starts two letters before <paramref name="digitStart"/>.</summary>
        public static bool Covers(string text, int digitStart)
        {
            // "DE89 3704 ..." starts with two letters and two digits; the run found starts at the "89" or a later group.
            for (var begin = digitStart - 1; begin >= 1 && digitStart - begin <= 40; begin--)
            {
                if (char.IsAsciiLetterUpper(text[begin]) && char.IsAsciiLetterUpper(text[begin - 1])
                    && (begin - 1 == 0 || !char.IsLetterOrDigit(text[begin - 2]))
                    && IsValid(text.AsSpan(begin - 1), out var length)
                    && begin - 1 + length > digitStart)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>ISO 13616: country, check digits, then up to 30 letters and digits (spaces between groups allowed); mod 97 = 1.</summary>
        private static bool IsValid(ReadOnlySpan<char> text, out int length)
        {
            Span<char> compact = stackalloc char[34];
            var n = 0;
            var i = 0;
            for (; i < text.Length && n < compact.Length; i++)
            {
                var c = text[i];
                if (char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c))
                {
                    compact[n++] = c;
                }
                else if (!IsSeparator(c) || i + 1 >= text.Length || !char.IsAsciiLetterOrDigit(text[i + 1]))
                {
                    break;
                }
            }

            length = i;
            if (n < 15 || !char.IsAsciiDigit(compact[2]) || !char.IsAsciiDigit(compact[3]))
            {
                return false;
            }

            // Move the first four characters to the end, letters as 10..35, and take the remainder piecewise.
            var remainder = 0;
            for (var k = 0; k < n; k++)
            {
                var c = compact[(k + 4) % n];
                remainder = char.IsAsciiDigit(c)
                    ? ((remainder * 10) + (c - '0')) % 97
                    : ((remainder * 100) + (c - 'A' + 10)) % 97;
            }

            return remainder == 1;
        }
    }
}
