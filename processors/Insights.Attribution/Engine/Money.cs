using Insights.Contracts;
namespace Insights.Attribution.Engine;

/// <summary>
/// Money as stored: <c>Decimal(18,4)</c>, rounded half away from zero, and split so the parts always add up to the
/// whole to the last 0.0001 (a linear split of 100.00 over three chats is 33.3334 + 33.3333 + 33.3333, not 3 × 33.3333).
/// </summary>
public static class Money
{
    /// <summary>Largest magnitude a <c>Decimal(18,4)</c> column holds.</summary>
    public const decimal MaxAmount = SiteValidation.MaxAmount;

    private const decimal Unit = 0.0001m;

    public static decimal Round(decimal amount) => Math.Round(amount, 4, MidpointRounding.AwayFromZero);

    /// <summary>Whether an amount from an event can be stored: not negative and within the column's range.</summary>
    public static bool IsStorable(decimal amount) => amount >= 0 && amount <= MaxAmount;

    /// <summary>
    /// Splits <paramref name="total"/> in proportion to <paramref name="weights"/> (largest remainder): each part is
    /// floored to 0.0001 and the units left over go to the largest remainders, earlier parts first on ties. The parts
    /// add up to exactly <paramref name="total"/>. Zero or negative weights get nothing; all-zero weights split equally.
    /// </summary>
    public static decimal[] Allocate(decimal total, ReadOnlySpan<double> weights)
    {
        var parts = new decimal[weights.Length];
        if (weights.Length == 0)
        {
            return parts;
        }

        var units = (long)(Round(total) / Unit);
        var clean = new decimal[weights.Length];
        var sum = 0m;
        for (var i = 0; i < weights.Length; i++)
        {
            clean[i] = weights[i] > 0 && double.IsFinite(weights[i]) ? (decimal)weights[i] : 0m;
            sum += clean[i];
        }

        var remainders = new decimal[weights.Length];
        long given = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            var quota = sum > 0 ? units * clean[i] / sum : (decimal)units / weights.Length;
            var floor = decimal.Floor(quota);
            parts[i] = floor;
            remainders[i] = quota - floor;
            given += (long)floor;
        }

        // Hand out what flooring left (or take back what decimal rounding over-gave), one unit at a time, by largest
        // remainder; earlier parts win ties, so the split is deterministic.
        var left = units - given;
        if (left != 0)
        {
            var order = Enumerable.Range(0, weights.Length)
                .OrderByDescending(i => remainders[i]).ThenBy(i => i).ToArray();
            if (left < 0)
            {
                Array.Reverse(order);
            }

            for (var k = 0; left != 0; k = (k + 1) % order.Length)
            {
                var step = left > 0 ? 1 : -1;
                if (step < 0 && parts[order[k]] == 0)
                {
                    continue;
                }

                parts[order[k]] += step;
                left -= step;
            }
        }

        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] *= Unit;
        }

        return parts;
    }
}
