using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using FinNews.Core.Market;

namespace FinNews.Core.Briefing;

/// <summary>
/// Price pictures drawn on the server as inline SVG: no script and no style attributes, so the strict CSP holds.
/// Colours and line widths come from classes in site.css (<c>svg.spark</c>, <c>svg.chart</c>); every chart carries a
/// text alternative (<c>aria-label</c>, or <c>&lt;title&gt;</c> and <c>&lt;desc&gt;</c>) that states its figures.
/// </summary>
public static class SvgCharts
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    /// <summary>A small line of closes (oldest first); empty when there are fewer than two.</summary>
    public static string Sparkline(IReadOnlyList<decimal> oldestFirst, int width = 120, int height = 28)
    {
        ArgumentNullException.ThrowIfNull(oldestFirst);
        if (oldestFirst.Count < 2)
        {
            return "";
        }

        var closes = oldestFirst.Select(c => (double)c).ToList();
        double min = closes.Min(), max = closes.Max();
        var range = max > min ? max - min : 1;
        var points = string.Join(' ', closes.Select((c, i) => string.Create(C,
            $"{i * (width - 2) / (double)(closes.Count - 1) + 1:0.#},{height - 1 - ((c - min) / range * (height - 2)):0.#}")));
        var trend = closes[^1] >= closes[0] ? "up" : "down";
        return string.Create(C, $"<svg class=\"spark {trend}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{closes.Count} closes from {oldestFirst[0]:0.00} to {oldestFirst[^1]:0.00}\"><polyline fill=\"none\" stroke-width=\"1.5\" points=\"{points}\"/></svg>");
    }

    /// <summary>The layout of a <see cref="PriceChart"/>: its drawing size and how many axis labels fit.</summary>
    /// <param name="Width">viewBox width (the chart scales to its container; text scales with it).</param>
    /// <param name="Height">viewBox height.</param>
    /// <param name="DateLabels">Date labels along the bottom (first and last included).</param>
    /// <param name="PriceLabels">Roughly how many price gridlines.</param>
    /// <param name="CssClass">Extra class on the svg (e.g. <c>wide</c> or <c>narrow</c>, picked by a media query).</param>
    public sealed record ChartLayout(int Width, int Height, int DateLabels, int PriceLabels, string CssClass)
    {
        /// <summary>For a desktop column (about 50rem).</summary>
        public static ChartLayout Wide { get; } = new(760, 300, 6, 6, "wide");

        /// <summary>For a phone (about 360 px).</summary>
        public static ChartLayout Narrow { get; } = new(360, 240, 3, 5, "narrow");
    }

    /// <summary>
    /// A daily price chart of <paramref name="oldestFirst"/> bars: each session's high–low range as a vertical bar,
    /// the closes as a line over them, flagged bars marked with a ring (their flags in a tooltip), price gridlines
    /// labelled on the left and dates along the bottom. Sessions are spaced evenly (no gaps for weekends).
    /// </summary>
    /// <param name="oldestFirst">Bars of one symbol, oldest first.</param>
    /// <param name="label">What the chart shows, e.g. "NVLX (Novalux Semiconductor) daily prices" (becomes the title).</param>
    /// <param name="id">A prefix for the element ids (unique on the page).</param>
    /// <param name="layout">Size and label density.</param>
    public static string PriceChart(IReadOnlyList<DailyBar> oldestFirst, string label, string id, ChartLayout layout)
    {
        ArgumentNullException.ThrowIfNull(oldestFirst);
        ArgumentNullException.ThrowIfNull(layout);
        if (oldestFirst.Count == 0)
        {
            return "";
        }

        const double Left = 52, Right = 12, Top = 12, Bottom = 28;
        var bars = oldestFirst;
        double w = layout.Width, h = layout.Height;
        double plotW = w - Left - Right, plotH = h - Top - Bottom;
        var low = (double)bars.Min(b => Math.Min(b.Low, b.Close));
        var high = (double)bars.Max(b => Math.Max(b.High, b.Close));
        var (axisMin, axisMax, step) = NiceScale(low, high, layout.PriceLabels);
        double Y(decimal price) => Top + plotH - (((double)price - axisMin) / (axisMax - axisMin) * plotH);
        var slot = plotW / bars.Count;
        double X(int i) => Left + slot * (i + 0.5);

        var first = bars[0];
        var last = bars[^1];
        var lowest = bars.MinBy(b => b.Low)!;
        var highest = bars.MaxBy(b => b.High)!;
        var flagged = bars.Count(b => b.Flags.Count > 0);
        var desc = string.Create(C,
            $"{bars.Count} sessions from {first.Date:yyyy-MM-dd} to {last.Date:yyyy-MM-dd}. Close {first.Close:0.00} on {first.Date:yyyy-MM-dd}, {last.Close:0.00} on {last.Date:yyyy-MM-dd}; lowest low {lowest.Low:0.00} on {lowest.Date:yyyy-MM-dd}, highest high {highest.High:0.00} on {highest.Date:yyyy-MM-dd}.{(flagged > 0 ? $" {flagged} session(s) carry data-quality flags, marked with a ring." : "")}");

        var sb = new StringBuilder();
        sb.Append(C, $"<svg class=\"chart {Html.Encode(layout.CssClass)}\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">");
        sb.Append(C, $"<title id=\"{id}-title\">{Html.Encode(label)}</title><desc id=\"{id}-desc\">{Html.Encode(desc)}</desc>");

        // Price gridlines and labels.
        sb.Append("<g class=\"grid\">");
        var decimals = step >= 1 ? "0" : step >= 0.1 ? "0.0" : "0.00";
        for (var v = axisMin; v <= axisMax + step / 1000; v += step)
        {
            var y = Y((decimal)v);
            sb.Append(C, $"<line x1=\"{Left:0.#}\" x2=\"{w - Right:0.#}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\"/>");
            sb.Append(C, $"<text class=\"price\" x=\"{Left - 6:0.#}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{v.ToString(decimals, C)}</text>");
        }

        sb.Append("</g>");

        // Date labels every few sessions from the first, and the last one, never two side by side.
        sb.Append("<g class=\"dates\">");
        var every = Math.Max(1, (int)Math.Ceiling((bars.Count - 1) / (double)Math.Max(1, layout.DateLabels - 1)));
        var shown = new SortedSet<int> { bars.Count - 1 };
        for (var i = 0; i < bars.Count - 1 - (every / 2.0); i += every)
        {
            shown.Add(i);
        }

        foreach (var i in shown)
        {
            var anchor = i == 0 && shown.Count > 1 ? "start" : i == bars.Count - 1 && shown.Count > 1 ? "end" : "middle";
            var x = anchor == "start" ? X(i) - slot / 2 : anchor == "end" ? X(i) + slot / 2 : X(i);
            sb.Append(C, $"<line class=\"tick\" x1=\"{X(i):0.#}\" x2=\"{X(i):0.#}\" y1=\"{Top + plotH:0.#}\" y2=\"{Top + plotH + 4:0.#}\"/>");
            sb.Append(C, $"<text x=\"{x:0.#}\" y=\"{h - 8:0.#}\" text-anchor=\"{anchor}\">{bars[i].Date.ToString(i == 0 || bars[i].Date.Year != bars[0].Date.Year ? "d MMM yyyy" : "d MMM", C)}</text>");
        }

        sb.Append("</g>");
        sb.Append(C, $"<line class=\"axis\" x1=\"{Left:0.#}\" x2=\"{w - Right:0.#}\" y1=\"{Top + plotH:0.#}\" y2=\"{Top + plotH:0.#}\"/>");

        // High–low ranges, then the close line over them, then rings on flagged sessions.
        sb.Append(C, $"<g class=\"range\" stroke-width=\"{Math.Clamp(slot * 0.45, 1, 6):0.#}\">");
        foreach (var (b, i) in bars.Select((b, i) => (b, i)))
        {
            var (yHigh, yLow) = (Y(b.High), Y(b.Low));
            if (yLow - yHigh < 1)
            {
                yLow = yHigh + 1;
            }

            sb.Append(C, $"<line x1=\"{X(i):0.#}\" x2=\"{X(i):0.#}\" y1=\"{yHigh:0.#}\" y2=\"{yLow:0.#}\"><title>{b.Date:yyyy-MM-dd}: open {b.Open:0.00}, high {b.High:0.00}, low {b.Low:0.00}, close {b.Close:0.00}</title></line>");
        }

        sb.Append("</g>");
        var points = string.Join(' ', bars.Select((b, i) => string.Create(C, $"{X(i):0.#},{Y(b.Close):0.#}")));
        sb.Append(C, $"<polyline class=\"close {(last.Close >= first.Close ? "up" : "down")}\" fill=\"none\" points=\"{points}\"/>");
        foreach (var (b, i) in bars.Select((b, i) => (b, i)).Where(x => x.b.Flags.Count > 0))
        {
            sb.Append(C, $"<circle class=\"flagged\" cx=\"{X(i):0.#}\" cy=\"{Y(b.Close):0.#}\" r=\"5\"><title>{b.Date:yyyy-MM-dd} flagged: {Html.Encode(string.Join(", ", b.Flags))}</title></circle>");
        }

        return sb.Append("</svg>").ToString();
    }

    /// <summary>An axis from a round number below <paramref name="min"/> to one above <paramref name="max"/> in steps of 1, 2, 2.5 or 5 × 10^k.</summary>
    internal static (double Min, double Max, double Step) NiceScale(double min, double max, int ticks)
    {
        if (max <= min)
        {
            var pad = Math.Max(Math.Abs(min) * 0.01, 0.01);
            (min, max) = (min - pad, max + pad);
        }

        var rough = (max - min) / Math.Max(1, ticks - 1);
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var step = new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * magnitude).First(s => s >= rough);
        return (Math.Floor(min / step) * step, Math.Ceiling(max / step) * step, step);
    }
}
