using Insights.Ingest.Masking;

namespace Insights.Ingest.Tests.Unit;

/// <summary>Card numbers in chat text never reach Kafka; numbers that only look like them stay readable.</summary>
public sealed class CardNumberMaskingTests
{
    [Theory]
    [InlineData("4111 1111 1111 1111", "**** **** **** 1111")] // Visa, grouped with spaces
    [InlineData("4111111111111111", "************1111")] // Visa, as pasted
    [InlineData("5555-5555-5555-4444", "****-****-****-4444")] // Mastercard, dashes
    [InlineData("2223003122003222", "************3222")] // Mastercard 2-series
    [InlineData("3782 822463 10005", "**** ****** *0005")] // Amex 4-6-5
    [InlineData("378282246310005", "***********0005")] // Amex, as pasted
    [InlineData("3056 930902 5904", "**** ****** 5904")] // Diners 4-6-4
    [InlineData("6011 1111 1111 1117", "**** **** **** 1117")] // Discover
    [InlineData("3530 1113 3330 0000", "**** **** **** 0000")] // JCB
    [InlineData("4222222222222", "*********2222")] // 13-digit Visa
    [InlineData("6221 2600 0000 0000 019", "**** **** **** ***0 019")] // 19-digit UnionPay, 4-4-4-4-3
    [InlineData("4111\u00A01111\u00A01111\u00A01111", "****\u00A0****\u00A0****\u00A01111")] // no-break spaces (pasted from a web page)
    [InlineData("4111-1111 1111-1111", "****-**** ****-1111")] // mixed separators
    public void Card_numbers_are_masked_to_their_last_four_digits(string card, string masked) =>
        Assert.Equal(masked, CardNumberMasker.Mask(card));

    [Fact]
    public void Cards_inside_a_message_are_masked_and_the_rest_is_kept()
    {
        Assert.Equal("Hi, my card is ****-****-****-1111, exp 12/26, CVC 123. Thanks!",
            CardNumberMasker.Mask("Hi, my card is 4111-1111-1111-1111, exp 12/26, CVC 123. Thanks!"));
        // An expiry written right after the number extends the digit run; the card inside it is still found.
        Assert.Equal("************1111 12/26", CardNumberMasker.Mask("4111111111111111 12/26"));
        Assert.Equal("ref 12 **** **** **** 1111", CardNumberMasker.Mask("ref 12 4111 1111 1111 1111"));
        Assert.Equal("a ************4444 or b ***********0005.",
            CardNumberMasker.Mask("a 5555555555554444 or b 378282246310005."));
        Assert.Equal("(************1111)", CardNumberMasker.Mask("(4111111111111111)"));
    }

    [Theory]
    [InlineData("4111 1111 1111 1112")] // fails the Luhn check
    [InlineData("4111111111111112")]
    [InlineData("Order #100234567 ships tomorrow")] // a shop's order number
    [InlineData("Amazon order 112-7614433-5589825")] // 3-7-7 groups: no card is written that way
    [InlineData("9123456789012348")] // Luhn-valid, but no card starts with 9 (tracking and account numbers do)
    [InlineData("1234 5678 9012 3452")] // Luhn-valid, starts with 1
    [InlineData("41111111111111111115")] // Luhn-valid, 20 digits: longer than any card
    [InlineData("Call +1 800 852 9001 or +44 20 7946 0958")] // phone numbers
    [InlineData("0049 30 901820 123")]
    [InlineData("2026-10-05 2026-10-06")] // dates
    [InlineData("20261005 093000")]
    [InlineData("IBAN DE79 5001 0517 5407 0002 24")] // a valid IBAN whose groups would otherwise pass as a Mastercard
    [InlineData("DE79500105175407000224")]
    [InlineData("GB82 WEST 1234 5698 7654 32")]
    [InlineData("Total 1,499.90 EUR, 3 items, 25% off")]
    public void Numbers_that_are_not_cards_are_left_alone(string text) =>
        Assert.Same(text, CardNumberMasker.Mask(text));

    [Fact]
    public void Text_without_digits_is_returned_as_it_is() =>
        Assert.Same("no numbers here", CardNumberMasker.Mask("no numbers here"));

    [Fact]
    public void Hostile_digit_runs_are_handled_in_linear_time()
    {
        // A long message of one-digit groups and of digits alone: each must finish at once, not quadratically.
        var groups = string.Join(' ', Enumerable.Repeat("4", 20_000));
        var digits = new string('4', 40_000);
        Assert.Same(groups, CardNumberMasker.Mask(groups));
        Assert.Same(digits, CardNumberMasker.Mask(digits));
    }

    [Theory]
    [InlineData("79927398713", true)] // the textbook example
    [InlineData("79927398710", false)]
    [InlineData("4111-1111-1111-1111", true)]
    public void The_luhn_check_ignores_separators(string number, bool valid) =>
        Assert.Equal(valid, CardNumberMasker.PassesLuhn(number));
}
