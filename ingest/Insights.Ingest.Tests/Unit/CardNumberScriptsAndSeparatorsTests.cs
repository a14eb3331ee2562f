using Insights.Ingest.Masking;

namespace Insights.Ingest.Tests.Unit;

/// <summary>Card numbers however people type or paste them: any space, dash, dot or line break, digits of any script.</summary>
public sealed class CardNumberScriptsAndSeparatorsTests
{
    [Theory]
    [InlineData("4111.1111.1111.1111", "****.****.****.1111")] // dots
    [InlineData("4111\u202F1111\u202F1111\u202F1111", "****\u202F****\u202F****\u202F1111")] // narrow no-break space (French grouping)
    [InlineData("4111\u20091111\u20091111\u20091111", "****\u2009****\u2009****\u20091111")] // thin space
    [InlineData("4111\u30001111\u30001111\u30001111", "****\u3000****\u3000****\u30001111")] // ideographic space
    [InlineData("4111\u200B1111\u200B1111\u200B1111", "****\u200B****\u200B****\u200B1111")] // zero-width space left by a copy
    [InlineData("4111\u20131111\u20131111\u20131111", "****\u2013****\u2013****\u20131111")] // en dash (autocorrected)
    [InlineData("4111\n1111\n1111\n1111", "****\n****\n****\n1111")] // one group per line
    [InlineData("4111\r\n1111\r\n1111\r\n1111", "****\r\n****\r\n****\r\n1111")] // Windows line breaks
    [InlineData("4111 - 1111 - 1111 - 1111", "**** - **** - **** - 1111")] // spaced dashes
    [InlineData("4111\t1111\t1111\t1111", "****\t****\t****\t1111")] // tabs (a spreadsheet cell)
    [InlineData("\u0664\u0661\u0661\u0661 \u0661\u0661\u0661\u0661 \u0661\u0661\u0661\u0661 \u0661\u0661\u0661\u0661",
        "**** **** **** \u0661\u0661\u0661\u0661")] // Arabic-Indic digits ٤١١١
    [InlineData("\u06F4\u06F1\u06F1\u06F1\u06F1\u06F1\u06F1\u06F1\u06F1\u06F1\u06F1\u06F1\u06F1\u06F1\u06F1\u06F1",
        "************\u06F1\u06F1\u06F1\u06F1")] // Persian (extended Arabic-Indic) digits, as pasted
    [InlineData("\uFF14\uFF11\uFF11\uFF11\u3000\uFF11\uFF11\uFF11\uFF11\u3000\uFF11\uFF11\uFF11\uFF11\u3000\uFF11\uFF11\uFF11\uFF11",
        "****\u3000****\u3000****\u3000\uFF11\uFF11\uFF11\uFF11")] // full-width digits and spaces (Japanese input)
    [InlineData("\u096A\u0967\u0967\u0967-\u0967\u0967\u0967\u0967-\u0967\u0967\u0967\u0967-\u0967\u0967\u0967\u0967",
        "****-****-****-\u0967\u0967\u0967\u0967")] // Devanagari digits
    [InlineData("4111 1111 \u0661\u0661\u0661\u0661 1111", "**** **** **** 1111")] // scripts mixed by a keyboard switch
    public void Cards_are_masked_whatever_the_separators_and_digits(string card, string masked) =>
        Assert.Equal(masked, CardNumberMasker.Mask(card));

    [Theory]
    [InlineData("\u0664\u0661\u0661\u0661 \u0661\u0661\u0661\u0661 \u0661\u0661\u0661\u0661 \u0661\u0661\u0661\u0662")] // Arabic-Indic, Luhn fails
    [InlineData("Tel. +49.30.901820.123")] // a phone number with dots
    [InlineData("31.12.2025 - 01.01.2026")] // a date range
    [InlineData("\uFF12\uFF10\uFF12\uFF16\u5E74\uFF11\uFF12\u6708\uFF10\uFF14\u65E5")] // a date in full-width digits
    [InlineData("4111\u00A0\u00A0\u00A0\u00A01111 1111 1111")] // four separators: two numbers, not one
    [InlineData("IBAN DE79\u00A05001\u00A00517\u00A05407\u00A00002\u00A024")] // a valid IBAN pasted with no-break spaces
    [InlineData("v1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16")] // a dotted version string
    [InlineData("192.168.100.200 10.0.0.1")] // IP addresses
    [InlineData("Order 112\u2013761443\u20135589825")] // an order number with en dashes
    public void Look_alikes_in_other_scripts_and_with_other_separators_are_left_alone(string text) =>
        Assert.Same(text, CardNumberMasker.Mask(text));

    [Theory]
    [InlineData("\u0667\u0669\u0669\u0662\u0667\u0663\u0669\u0668\u0667\u0661\u0663", true)] // 79927398713 in Arabic-Indic digits
    [InlineData("\uFF17\uFF19\uFF19\uFF12\uFF17\uFF13\uFF19\uFF18\uFF17\uFF11\uFF10", false)]
    public void The_luhn_check_reads_digits_of_any_script(string number, bool valid) =>
        Assert.Equal(valid, CardNumberMasker.PassesLuhn(number));

    [Fact]
    public void Lone_surrogates_and_control_characters_around_a_card_do_not_stop_the_masking()
    {
        Assert.Equal("\uD800 **** **** **** 1111 \uDC00\u0000", CardNumberMasker.Mask("\uD800 4111 1111 1111 1111 \uDC00\u0000"));
        Assert.Same("\uD800\uDC00\uD800", CardNumberMasker.Mask("\uD800\uDC00\uD800"));
    }

    [Fact]
    public void Hostile_runs_of_separated_digits_finish_at_once()
    {
        // 1 MB of one-digit groups with every kind of separator, and of card-shaped groups that never pass Luhn.
        var separators = "\u00A0-. \u2009\n";
        var mixed = string.Create(1 << 20, separators, (span, seps) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (i & 1) == 0 ? '4' : seps[i / 2 % seps.Length];
            }
        });
        var groups = string.Concat(Enumerable.Repeat("4111 1111 1111 1112 ", 50_000));
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        Assert.Same(mixed, CardNumberMasker.Mask(mixed));
        Assert.Same(groups, CardNumberMasker.Mask(groups));
        // Generous for a shared 2-core machine; a quadratic scan of 1 MB takes minutes.
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5));
    }
}
