using System.Buffers;

namespace Insights.Ingest.Masking;

/// <summary>
/// Finds payment card numbers in free text (chat messages) and masks all but their last four digits, keeping the
/// separators: <c>4111 1111 1111 1111</c> becomes <c>**** **** **** 1111</c>. Pure and allocation-free when the
/// text holds no card, which is nearly always.
/// </summary>
/// <remarks>
/// A card is 13–19 ASCII digits that pass the Luhn check, written as one run or as groups separated by one space,
/// dash or no-break space, the way people type and paste them: 4-4-4-4, Amex 4-6-5, Diners 4-6-4, 4-4-4-4-3,
/// 4-4-4-1. Groups other than the last have 4–6 digits, which is what keeps dates (2025-01-31), phone numbers
/// (+1 800 852 9001) and long order numbers with 7-digit parts (112-7614433-5589825) out; so does the first digit (cards
/// start with 2–6) and the Luhn check, and a valid IBAN is never a card. The cost of a false positive is
/// a masked number in a transcript; the cost of a false negative is a card number in storage, so ambiguity masks.
/// </remarks>
public static class CardNumberMasker
{
    public const char MaskCharacter = '*';

    private const int MinDigits = 13;
    private const int MaxDigits = 19;
    private const int MinGroup = 4;
    private const int MaxGroup = 6;

    private static readonly SearchValues<char> Digits = SearchValues.Create("0123456789");

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
            if (!Iban.Covers(text, start))
            {
                MaskRun(text, start, end, ref masked);
            }

            position = end;
        }

        return masked is null ? text : new string(masked);
    }

    /// <summary>The Luhn (mod 10) check over the digits of <paramref name="digits"/>, ignoring separators.</summary>
    public static bool PassesLuhn(ReadOnlySpan<char> digits)
    {
        var sum = 0;
        var count = 0;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var c = digits[i];
            if (!char.IsAsciiDigit(c))
            {
                continue;
            }

            var d = c - '0';
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

    /// <summary>Where the run of digit groups starting at <paramref name="start"/> ends (exclusive).</summary>
    private static int RunEnd(string text, int start)
    {
        var i = start;
        while (true)
        {
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            // One separator followed by a digit continues the run; anything else ends it.
            if (i + 1 < text.Length && IsSeparator(text[i]) && char.IsAsciiDigit(text[i + 1]))
            {
                i++;
                continue;
            }

            return i;
        }
    }

    private static bool IsSeparator(char c) => c is ' ' or '-' or '\u00A0';

    /// <summary>
    /// Within one run, masks the longest card-shaped span starting at each group, left to right. A span starts and
    /// ends at group boundaries, so a card followed by an expiry ("4111111111111111 12/26") is still found.
    /// </summary>
    private static void MaskRun(string text, int start, int end, ref char[]? masked)
    {
        Span<(int Start, int End)> groups = stackalloc (int, int)[64];
        var first = start;
        while (first < end)
        {
            // Groups from `first`, at most as many as a card can span (19 one-digit groups).
            var count = 0;
            var i = first;
            var digits = 0;
            while (i < end && count < groups.Length && digits < MaxDigits)
            {
                var groupStart = i;
                while (i < end && char.IsAsciiDigit(text[i]))
                {
                    i++;
                }

                groups[count++] = (groupStart, i);
                digits += i - groupStart;
                i++; // the separator
            }

            var found = LongestCard(text, groups[..count]);
            if (found > 0)
            {
                masked ??= text.ToCharArray();
                MaskSpan(masked, groups[0].Start, groups[found - 1].End);
                first = found < count ? groups[found].Start : NextGroup(groups[count - 1].End, end);
            }
            else
            {
                first = NextGroup(groups[0].End, end);
            }
        }
    }

    // Past the separator that follows a group, or the end of the run.
    private static int NextGroup(int groupEnd, int end) => groupEnd < end ? groupEnd + 1 : end;

    /// <summary>How many leading groups form the longest card, or 0.</summary>
    private static int LongestCard(string text, ReadOnlySpan<(int Start, int End)> groups)
    {
        var best = 0;
        var digits = 0;
        for (var n = 1; n <= groups.Length; n++)
        {
            var (groupStart, groupEnd) = groups[n - 1];
            var length = groupEnd - groupStart;
            digits += length;
            if (digits > MaxDigits)
            {
                break;
            }

            // Every group but the last must look like a card group; once one does not, longer spans cannot either.
            if (n > 1)
            {
                var (previousStart, previousEnd) = groups[n - 2];
                if (previousEnd - previousStart is < MinGroup or > MaxGroup)
                {
                    break;
                }
            }

            if (digits >= MinDigits && IsIssuerDigit(text[groups[0].Start]) && PassesLuhn(text.AsSpan(groups[0].Start, groupEnd - groups[0].Start)))
            {
                best = n;
            }
        }

        return best;
    }

    // Card numbers start with 2 (Mastercard 2-series), 3 (Amex, Diners, JCB), 4 (Visa), 5 (Mastercard, Maestro) or
    // 6 (Discover, UnionPay, Maestro); 1, 7, 8, 9 and 0 start order, account and tracking numbers.
    private static bool IsIssuerDigit(char c) => c is >= '2' and <= '6';

    private static void MaskSpan(char[] text, int start, int end)
    {
        // Keep the last four digits: enough for a person to recognise the card, never enough to use it.
        var keep = 4;
        for (var i = end - 1; i >= start; i--)
        {
            if (!char.IsAsciiDigit(text[i]))
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
                else if (c != ' ' || i + 1 >= text.Length || !char.IsAsciiLetterOrDigit(text[i + 1]))
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
