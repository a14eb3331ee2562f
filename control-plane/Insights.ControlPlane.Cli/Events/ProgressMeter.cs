using System.Globalization;
using System.Text;

namespace Insights.ControlPlane.Cli.Events;

/// <summary>
/// How far a long command is: done of total (bytes of a file, offsets of a topic), items per second and the time left.
/// On a terminal one line redrawn in place (a bar, at most every 100 ms); otherwise, for logs and CI, a plain line every
/// <c>interval</c>; or nothing. Written to stderr, so stdout keeps only the result.
/// </summary>
public sealed class ProgressMeter(TextWriter writer, ProgressMode mode, string what, long total, TimeProvider time, TimeSpan interval)
{
    private const int BarWidth = 30;
    private readonly long started = time.GetTimestamp();
    private long lastDrawn = long.MinValue;
    private bool drawnOnTerminal;

    public long Done { get; private set; }

    /// <summary>What done counts up to; 0 when unknown (stdin), then no percent or time left is shown.</summary>
    public long Total { get; set; } = total;

    public long Items { get; private set; }

    /// <summary>Records progress, and draws it when it is time to.</summary>
    public void Report(long done, long items)
    {
        (Done, Items) = (done, items);
        if (mode == ProgressMode.None)
        {
            return;
        }

        var now = time.GetTimestamp();
        var every = mode == ProgressMode.Terminal ? TimeSpan.FromMilliseconds(100) : interval;
        if (lastDrawn != long.MinValue && time.GetElapsedTime(lastDrawn, now) < every)
        {
            return;
        }

        lastDrawn = now;
        Draw(time.GetElapsedTime(started, now));
    }

    /// <summary>The last state, and on a terminal the end of the redrawn line.</summary>
    public void Finish()
    {
        if (mode == ProgressMode.None)
        {
            return;
        }

        Draw(time.GetElapsedTime(started));
        if (drawnOnTerminal)
        {
            writer.WriteLine();
        }

        writer.Flush();
    }

    /// <summary>A message between progress lines (a skipped line's report), without breaking the bar.</summary>
    public void Say(string message)
    {
        if (drawnOnTerminal)
        {
            // Clears the bar's line; the next report draws it again below.
            writer.Write("\r\u001b[2K");
            lastDrawn = long.MinValue;
        }

        writer.WriteLine(message);
    }

    private void Draw(TimeSpan elapsed)
    {
        if (mode == ProgressMode.Terminal)
        {
            writer.Write("\r\u001b[2K" + Line(elapsed, bar: true));
            drawnOnTerminal = true;
        }
        else
        {
            writer.WriteLine($"{what}: {Line(elapsed, bar: false)}");
        }

        writer.Flush();
    }

    /// <summary><c>[#####-----]  45.2%  12,345 events  3,210/s  ETA 0:42</c> (the bar only on a terminal).</summary>
    public string Line(TimeSpan elapsed, bool bar)
    {
        var rate = elapsed.TotalSeconds > 0 ? Items / elapsed.TotalSeconds : 0;
        if (Total <= 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{Items:N0} {Unit}  {rate:N0}/s");
        }

        var fraction = Math.Clamp((double)Done / Total, 0, 1);
        var text = new StringBuilder();
        if (bar)
        {
            var filled = (int)Math.Round(fraction * BarWidth);
            text.Append('[').Append('#', filled).Append('-', BarWidth - filled).Append("] ");
        }

        text.Append(CultureInfo.InvariantCulture, $"{fraction * 100,5:0.0}%  {Items:N0} {Unit}  {rate:N0}/s  ETA {Eta(fraction, elapsed)}");
        return text.ToString();
    }

    /// <summary>What an item is called in the line ("events", "messages").</summary>
    public string Unit { get; init; } = "events";

    /// <summary>The time left at the average pace so far; <c>--:--</c> until there is a pace.</summary>
    public static string Eta(double fraction, TimeSpan elapsed)
    {
        if (fraction >= 1)
        {
            return "0:00";
        }

        if (fraction <= 0 || elapsed <= TimeSpan.Zero)
        {
            return "--:--";
        }

        var left = TimeSpan.FromSeconds(Math.Ceiling(elapsed.TotalSeconds * (1 - fraction) / fraction));
        return left.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)left.TotalHours}:{left.Minutes:00}:{left.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{left.Minutes}:{left.Seconds:00}");
    }
}

/// <summary>How progress is shown: a redrawn bar on a terminal, periodic plain lines, or not at all (<c>--no-progress</c>).</summary>
public enum ProgressMode
{
    None,
    Lines,
    Terminal,
}
