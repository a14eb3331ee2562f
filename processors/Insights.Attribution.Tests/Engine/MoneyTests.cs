using Insights.Attribution.Engine;

namespace Insights.Attribution.Tests.Engine;

public sealed class MoneyTests
{
    [Theory]
    [InlineData("100", new[] { 1.0, 1.0, 1.0 }, new[] { "33.3334", "33.3333", "33.3333" })]
    [InlineData("0.0002", new[] { 1.0, 1.0, 1.0 }, new[] { "0.0001", "0.0001", "0" })]
    [InlineData("10", new[] { 0.0, 0.0 }, new[] { "5", "5" })]
    [InlineData("10", new[] { 0.0, 3.0 }, new[] { "0", "10" })]
    [InlineData("99999999999999.9999", new[] { 1.0, 2.0 }, new[] { "33333333333333.3333", "66666666666666.6666" })]
    public void Allocation_splits_in_proportion_and_adds_up(string total, double[] weights, string[] expected)
    {
        var parts = Money.Allocate(decimal.Parse(total, System.Globalization.CultureInfo.InvariantCulture), weights);

        Assert.Equal(expected.Select(e => decimal.Parse(e, System.Globalization.CultureInfo.InvariantCulture)), parts);
    }

    [Fact]
    public void Any_split_adds_up_to_the_total_to_the_last_unit()
    {
        var random = new Random(11);
        for (var i = 0; i < 5_000; i++)
        {
            var total = Money.Round((decimal)(random.NextDouble() * 10_000));
            var weights = Enumerable.Range(0, random.Next(1, 12)).Select(_ => Math.Pow(2, -random.NextDouble() * 40)).ToArray();

            var parts = Money.Allocate(total, weights);

            Assert.Equal(total, parts.Sum());
            Assert.All(parts, p => Assert.True(p >= 0 && p == Money.Round(p)));
        }
    }
}
